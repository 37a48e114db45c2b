"""Who hears of a planned outage, and when: lead times as versioned rules
(models/data/outage_notices.yaml). Pure."""

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, field_validator

from models.core.yaml_files import read_model_file
from models.outages.outage import OutageKind

RULES_FILE = Path(__file__).resolve().parent.parent / "data" / "outage_notices.yaml"
SPAN = re.compile(r"^\s*(\d+)\s*(hours|days)\s*$")


class NoticeRule(BaseModel):
    kind: OutageKind
    customers: Literal["all", "important"]
    lead: timedelta

    @field_validator("lead", mode="before")
    @classmethod
    def _lead(cls, value):
        found = SPAN.match(str(value))
        if not found:
            raise ValueError("应为 <n> hours 或 <n> days")
        return timedelta(**{found[2]: int(found[1])})


class NoticeVersion(BaseModel):
    version: str
    effective_from: date
    rules: list[NoticeRule]


class NoticeRules(BaseModel):
    versions: list[NoticeVersion]

    def version_on(self, day: date) -> NoticeVersion | None:
        """The newest version in force on `day`."""
        return max((v for v in self.versions if v.effective_from <= day),
                   key=lambda v: v.effective_from, default=None)

    def rule_for(self, kind: OutageKind, day: date) -> tuple[str, NoticeRule] | None:
        version = self.version_on(day)
        rule = version and next((r for r in version.rules if r.kind == kind), None)
        return (version.version, rule) if rule else None


def load_notice_rules(path: Path = RULES_FILE) -> NoticeRules:
    return read_model_file(path, NoticeRules, "停电通知规则文件", "file")


def notice_due(start_at: datetime, rule: NoticeRule) -> datetime:
    """When the notice goes out: its lead time before the start."""
    return start_at - rule.lead
