"""The centre's workforce settings (targets, shift templates, rest rules, alert levels): data,
validated here, read from models/data/workforce.yaml or the file GRIDLINE_WORKFORCE_FILE names."""

from datetime import time
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from models.enums import StaffRole
from models.staffing import Target

DEFAULT_FILE = Path(__file__).parent / "data" / "workforce.yaml"


class TargetSpec(BaseModel):
    service_level: float = Field(0.8, gt=0, lt=1)
    answer_within_s: float = Field(20, ge=0)
    max_occupancy: float = Field(0.85, gt=0, le=1)
    shrinkage: float = Field(0.3, ge=0, lt=1)
    min_agents: int = Field(0, ge=0)
    patience_s: float | None = Field(None, gt=0)


class ShiftTemplate(BaseModel):
    code: str
    name: str
    start: time
    hours: float = Field(gt=0, le=24)


class AlertLevel(BaseModel):
    level: int
    label: str
    threshold: float
    notify: list[StaffRole]


class AlertRule(BaseModel):
    indicator: str
    label: str
    direction: Literal["below", "above"]
    levels: list[AlertLevel]

    def crossed(self, value: float) -> AlertLevel | None:
        """The most severe level the value has crossed, if any."""
        hit = [lv for lv in self.levels
               if (value < lv.threshold if self.direction == "below" else value > lv.threshold)]
        return max(hit, key=lambda lv: lv.level, default=None)


class WorkforceConfig(BaseModel):
    interval_minutes: int = Field(30, gt=0)
    history_days: int = 400
    aht_days: int = 28
    backtest_weeks: int = 2
    default_target: TargetSpec = TargetSpec()
    groups: dict[str, dict] = {}
    shifts: list[ShiftTemplate]
    min_rest_hours: float = 12
    max_shifts_per_week: int = 5
    roster_time_limit_s: float = 30
    handover_at: list[time] = []
    callback_steps: list[str] = ["callback"]
    handover_roles: list[StaffRole] = [StaffRole.agent]
    alerts: list[AlertRule] = []

    @property
    def slots(self) -> int:
        return 24 * 60 // self.interval_minutes

    def target(self, group: str) -> Target:
        spec = self.default_target.model_copy(update=self.groups.get(group, {}))
        return Target(**TargetSpec.model_validate(spec.model_dump()).model_dump())

    def alert(self, indicator: str) -> AlertRule | None:
        return next((a for a in self.alerts if a.indicator == indicator), None)


def load_workforce_config(path: Path | None = None) -> WorkforceConfig:
    return WorkforceConfig.model_validate(yaml.safe_load((path or DEFAULT_FILE).read_text("utf-8")))
