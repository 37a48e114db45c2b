"""Multi-level workforce alerts through the outbox: planned staff below the requirement, and live
indicators (queue length, answer rate) past their thresholds. Levels and recipients are settings."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import pendulum
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.core.enums import DepartmentKind, StaffRole
from models.org.organisation import Department, Staff
from models.workforce.config import AlertLevel, AlertRule, WorkforceConfig
from models.workforce.tables import IndicatorReading, RosterShift
from tasks.messaging.outbox import enqueue_many, messages_to
from tasks.workforce.planning import required_per_interval

RATIO_INDICATORS = {"staffing_ratio", "answer_rate"}
POOL_LABEL = "公共坐席"  # agents of no business group


def recipients(session: Session, roles: list[StaffRole]) -> list[Staff]:
    return list(session.scalars(
        select(Staff).join(Department, Staff.department_id == Department.id)
        .where(Staff.role.in_(roles), Staff.active.is_(True),
               Department.kind == DepartmentKind.service_centre)
        .order_by(Staff.code)))


def _notify(session: Session, *, key: str, rule: AlertRule, level: AlertLevel, context: dict,
            now: datetime) -> int:
    context = {"level_label": level.label, "rule_label": rule.label, **context}
    return enqueue_many(session, [
        intent for person in recipients(session, level.notify)
        for intent in messages_to(person, key=f"{key}:L{level.level}:{person.id}",
                                  template="workforce_alert", context=context, urgent=True)],
        now=now)


def _shown(indicator: str, value: float) -> str:
    return f"{value:.0%}" if indicator in RATIO_INDICATORS else f"{value:g}"


def planned_per_interval(session: Session, starts: list[datetime]) -> list[int]:
    """Agents on shift at each start: one query for the whole span, counted here."""
    if not starts:
        return []
    shifts = session.execute(select(RosterShift.start_at, RosterShift.end_at).where(
        RosterShift.start_at <= max(starts), RosterShift.end_at > min(starts))).all()
    return [sum(1 for begin, end in shifts if begin <= at < end) for at in starts]


def on_duty_by_group(session: Session, at: datetime) -> dict[str | None, int]:
    """{business group (None: the pool): agents on shift at the moment}."""
    return dict(session.execute(
        select(RosterShift.business_group, func.count())
        .where(RosterShift.start_at <= at, RosterShift.end_at > at)
        .group_by(RosterShift.business_group)).all())


@dataclass(frozen=True)
class Window:
    level: AlertLevel
    start: datetime
    end: datetime
    worst: float
    required: int
    planned: int


def staffing_alerts(session: Session, *, start: datetime, end: datetime, config: WorkforceConfig,
                    now: datetime, timezone: str) -> list[Window]:
    """Alert where the roster plans fewer agents than the staffing plan requires: one message per
    run of consecutive intervals at the same level, to that level's people."""
    rule = config.alert("staffing_ratio")
    if rule is None:
        return []
    step = timedelta(minutes=config.interval_minutes)
    needed = required_per_interval(session, start, end)
    starts = sorted(at for at, n in needed.items() if n > 0)
    windows: list[Window] = []
    for at, planned in zip(starts, planned_per_interval(session, starts), strict=True):
        ratio = planned / needed[at]
        level = rule.crossed(ratio)
        if level is None:
            continue
        last = windows[-1] if windows else None
        if last and last.level == level and last.end == at:
            windows[-1] = Window(level, last.start, at + step, min(last.worst, ratio),
                                 max(last.required, needed[at]), min(last.planned, planned))
        else:
            windows.append(Window(level, at, at + step, ratio, needed[at], planned))
    for w in windows:
        begin = pendulum.instance(w.start).in_timezone(timezone)
        finish = pendulum.instance(w.end).in_timezone(timezone)
        _notify(session, key=f"alert:staffing_ratio:{w.start.isoformat()}", rule=rule,
                level=w.level, now=now, context={
                    "scope": "全中心", "window": f"{begin:%m-%d %H:%M}至{finish:%H:%M}",
                    "value": f"{w.worst:.0%}（需求 {w.required} 人，已排 {w.planned} 人）",
                    "threshold": f"{w.level.threshold:.0%}", "advice": "请调整排班或增派坐席。"})
    return windows


def record_reading(session: Session, *, group: str, indicator: str, value: float,
                   at: datetime) -> IndicatorReading:
    reading = session.scalar(select(IndicatorReading).where(
        IndicatorReading.group == group, IndicatorReading.indicator == indicator,
        IndicatorReading.at == at))
    if reading is None:
        reading = IndicatorReading(group=group, indicator=indicator, at=at, value=value)
        session.add(reading)
    reading.value = value
    session.flush()
    return reading


def indicator_alert(session: Session, reading: IndicatorReading, *, config: WorkforceConfig,
                    now: datetime, timezone: str) -> AlertLevel | None:
    """Alert on one live reading past a configured level; a reading alerts once per level."""
    rule = config.alert(reading.indicator)
    level = rule.crossed(reading.value) if rule else None
    if level is not None:
        at = pendulum.instance(reading.at).in_timezone(timezone)
        _notify(session, key=f"alert:{reading.indicator}:{reading.group}:{reading.at.isoformat()}",
                rule=rule, level=level, now=now, context={
                    "scope": reading.group, "window": f"{at:%m-%d %H:%M}",
                    "value": _shown(reading.indicator, reading.value),
                    "threshold": _shown(reading.indicator, level.threshold),
                    "advice": "请关注现场并及时调度。"})
    return level


def record_live(session: Session, *, group: str, readings: Mapping[str, float], at: datetime,
                config: WorkforceConfig, timezone: str) -> dict[str, AlertLevel | None]:
    """A group's live readings at one moment, as the telephony reports them (`gridline calls
    live`): each stored, and each past a configured level alerts its people."""
    levels = {}
    for indicator, value in readings.items():
        reading = record_reading(session, group=group, indicator=indicator, value=value, at=at)
        levels[indicator] = indicator_alert(session, reading, config=config, now=at,
                                            timezone=timezone)
    return levels
