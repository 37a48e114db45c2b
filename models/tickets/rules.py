"""Deadline rules: versioned, by ticket type, subtype and supply-area kind; each a named clock.

Rules live in the `deadline_rules` table, loaded from YAML (models/data/deadline_rules.yaml is the
default set, from State Grid's published service commitments). Nothing here reads the clock or the
database: callers pass the rules and the times in.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pendulum
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.core.base import Base, enum_column
from models.core.enums import AreaKind, SpanUnit, TicketType
from models.core.errors import InputError, input_error
from models.tickets.calendar import WorkCalendar, add_natural

DEFAULT_RULES_FILE = Path(__file__).parents[1] / "data" / "deadline_rules.yaml"
STEP_START = "step"  # starts_after of a clock that runs from its step's opening


class DeadlineRule(Base):
    __tablename__ = "deadline_rules"
    __table_args__ = (
        UniqueConstraint("version", "ticket_type", "subtype", "area_kind", "clock",
                         name="uq_deadline_rules_identity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(50))
    effective_from: Mapped[date] = mapped_column(Date)
    ticket_type: Mapped[TicketType] = enum_column(TicketType)
    subtype: Mapped[str] = mapped_column(String(50), default="")  # "" applies to every subtype
    area_kind: Mapped[str] = mapped_column(String(20), default="")  # "" applies to every area
    clock: Mapped[str] = mapped_column(String(50))
    label: Mapped[str] = mapped_column(String(50))
    span_value: Mapped[int] = mapped_column(Integer)
    span_unit: Mapped[SpanUnit] = enum_column(SpanUnit)
    # "" counts from the ticket's receipt; "step" from the opening of the step that names the
    # clock (review, callback); otherwise from the due time of that clock until it is met, then
    # from the time it was met (restoration counts from the recorded arrival).
    starts_after: Mapped[str] = mapped_column(String(50), default="")
    # How long before the due time the clock counts as about to expire.
    warn_minutes: Mapped[int] = mapped_column(Integer)


# --- the YAML form an admin edits -------------------------------------------------------------

class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: TicketType
    subtype: str = ""
    area: AreaKind | None = None
    clock: str = Field(pattern=r"^[a-z_]+$")
    label: str
    span: str  # "45 minutes", "24 hours", "4 working_days"
    starts_after: str = ""
    warn: str | None = None  # about-to-expire window, "15 minutes" or "4 hours"

    @field_validator("span")
    @classmethod
    def _span_has_unit(cls, value: str) -> str:
        parse_span(value)
        return value

    @field_validator("warn")
    @classmethod
    def _warn_is_natural(cls, value: str | None) -> str | None:
        return natural_span(value) if value is not None else None


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    effective_from: date
    default_warn: str = "24 hours"  # the about-to-expire window of clocks that name none
    rules: list[RuleSpec]

    @field_validator("default_warn")
    @classmethod
    def _default_warn_is_natural(cls, value: str) -> str:
        return natural_span(value)


def parse_span(text: str) -> tuple[int, SpanUnit]:
    parts = text.split()
    if len(parts) != 2 or not parts[0].isdigit() or parts[1] not in SpanUnit.__members__:
        raise InputError("span", "时长应写作“45 minutes”“24 hours”或“4 working_days”",
                         f"span must read like '45 minutes', '24 hours' or '4 working_days': "
                         f"{text!r}")
    return int(parts[0]), SpanUnit(parts[1])


def natural_span(text: str) -> str:
    if parse_span(text)[1] == SpanUnit.working_days:
        raise InputError("warn", "临期提醒时长按自然时间计，只能用 minutes 或 hours",
                         "an about-to-expire window is natural time: minutes or hours")
    return text


class RuleFileError(ValueError):
    """A bad rule file: its path, the field and why (`zh` says it in Chinese)."""

    def __init__(self, path: Path, field: str, zh: str, en: str):
        super().__init__(f"{path}: {field}: {en}")
        self.zh = f"{field}：{zh}"


def read_rule_file(path: Path) -> list[DeadlineRule]:
    try:
        ruleset = RuleSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise RuleFileError(path, "file", "文件无法读取", str(exc)) from exc
    except yaml.YAMLError as exc:
        raise RuleFileError(path, "yaml", "YAML 格式错误", str(exc)) from exc
    except ValidationError as exc:
        error = input_error(exc, RuleSet)
        raise RuleFileError(path, error.field, error.zh, error.en) from exc
    rows = []
    for spec in ruleset.rules:
        value, unit = parse_span(spec.span)
        rows.append(DeadlineRule(
            version=ruleset.version, effective_from=ruleset.effective_from,
            ticket_type=spec.type, subtype=spec.subtype,
            area_kind=spec.area.value if spec.area else "", clock=spec.clock, label=spec.label,
            span_value=value, span_unit=unit, starts_after=spec.starts_after,
            warn_minutes=span_minutes(spec.warn or ruleset.default_warn),
        ))
    return rows


def span_minutes(span: str) -> int:
    value, unit = parse_span(span)
    return value * 60 if unit == SpanUnit.hours else value


# --- choosing and applying rules ----------------------------------------------------------------

@dataclass(frozen=True)
class ClockDue:
    clock: str
    label: str
    due_at: pendulum.DateTime
    starts_after: str
    version: str
    warn_minutes: int


def applicable_rules(rules: Iterable[DeadlineRule], ticket_type: TicketType, subtype: str | None,
                     area: AreaKind, on: date) -> list[DeadlineRule]:
    """For each clock, the most specific rule of the newest version in force on `on`."""
    candidates = [
        r for r in rules
        if r.ticket_type == ticket_type and r.effective_from <= on
        and r.subtype in ("", subtype or "") and r.area_kind in ("", area.value)
    ]
    if not candidates:
        return []
    newest = max(candidates, key=lambda r: (r.effective_from, r.version))
    in_force = [r for r in candidates if r.version == newest.version]
    if subtype and any(r.subtype == subtype for r in in_force):
        # A subtype with rules of its own replaces the type's general rules.
        # (A step's own clock is the centre's, whatever the subtype.)
        in_force = [r for r in in_force if r.subtype == subtype or r.starts_after == STEP_START]
    best: dict[str, DeadlineRule] = {}
    for rule in in_force:
        current = best.get(rule.clock)
        if current is None or _specificity(rule) > _specificity(current):
            best[rule.clock] = rule
    return sorted(best.values(), key=lambda r: r.clock)


def _specificity(rule: DeadlineRule) -> int:
    return (2 if rule.subtype else 0) + (1 if rule.area_kind else 0)


def span_end(rule: DeadlineRule, start: datetime, calendar: WorkCalendar) -> pendulum.DateTime:
    if rule.span_unit == SpanUnit.working_days:
        return calendar.add_working_days(start, rule.span_value)
    unit = "minutes" if rule.span_unit == SpanUnit.minutes else "hours"
    return add_natural(start, timedelta(**{unit: rule.span_value}), calendar.timezone)


def due_times(rules: list[DeadlineRule], received_at: datetime,
              calendar: WorkCalendar) -> list[ClockDue]:
    """Due time of every clock at intake; a clock that starts after another counts from that
    one's due time. A step's own clock (starts_after "step") has none until its step opens."""
    rules = [r for r in rules if r.starts_after != STEP_START]
    by_clock = {r.clock: r for r in rules}
    resolved: dict[str, pendulum.DateTime] = {}

    def due(clock: str, chain: tuple[str, ...] = ()) -> pendulum.DateTime:
        if clock in chain:
            raise ValueError(f"deadline rules start after each other in a circle: {chain}")
        if clock not in resolved:
            rule = by_clock[clock]
            if rule.starts_after and rule.starts_after in by_clock:
                start = due(rule.starts_after, chain + (clock,))
            else:
                start = received_at
            resolved[clock] = span_end(rule, start, calendar)
        return resolved[clock]

    clocks = [ClockDue(r.clock, r.label, due(r.clock), r.starts_after, r.version, r.warn_minutes)
              for r in rules]
    return sorted(clocks, key=lambda c: (c.due_at, c.clock))


def restarted_after(rules: list[DeadlineRule], met_clock: str, met_at: datetime,
                    calendar: WorkCalendar) -> dict[str, pendulum.DateTime]:
    """The clocks that start after `met_clock`, counted again from when it was actually met."""
    return {r.clock: span_end(r, met_at, calendar) for r in rules if r.starts_after == met_clock}


def step_rule(rules: list[DeadlineRule], clock: str | None) -> DeadlineRule | None:
    """The rule of a clock that runs from its step's opening, if `clock` is one."""
    return next((r for r in rules if r.clock == clock and r.starts_after == STEP_START), None)
