"""现场监控: what the wallboard shows now, per business group (calls waiting, answer rate) and for
the centre (agents on duty against the roster's requirement), and overdue tickets per unit of the
viewer's scope, each coloured by the workforce file's alert levels."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.workforce.config import WorkforceConfig
from models.workforce.tables import IndicatorReading
from tasks.core.settings import get_settings
from tasks.statistics.aggregations import Period, indicators
from tasks.statistics.figures import Statistics
from tasks.workforce.alerts import POOL_LABEL, on_duty_by_group
from tasks.workforce.planning import required_by_group

LIVE_INDICATORS = ("queue_length", "answer_rate")
FRESH = timedelta(hours=1)  # an older reading is shown as missing, not as the present


def level_of(config: WorkforceConfig, indicator: str, value: float | None) -> int:
    """0 for normal (or no alert rule, or no value), else the level crossed."""
    rule = config.alert(indicator)
    level = rule.crossed(value) if rule is not None and value is not None else None
    return level.level if level else 0


def latest_readings(session: Session, now: datetime) -> dict[str, dict[str, float]]:
    """{group: {indicator: value}} from each group's newest fresh reading of each indicator."""
    newest = (select(IndicatorReading.group, IndicatorReading.indicator,
                     func.max(IndicatorReading.at).label("at"))
              .where(IndicatorReading.indicator.in_(LIVE_INDICATORS),
                     IndicatorReading.at > now - FRESH, IndicatorReading.at <= now)
              .group_by(IndicatorReading.group, IndicatorReading.indicator).subquery())
    rows = session.execute(select(IndicatorReading.group, IndicatorReading.indicator,
                                  IndicatorReading.value).join(newest, (
        newest.c.group == IndicatorReading.group) & (newest.c.indicator == IndicatorReading.indicator)
        & (newest.c.at == IndicatorReading.at)))
    found: dict[str, dict[str, float]] = {}
    for group, indicator, value in rows:
        found.setdefault(group, {})[indicator] = value
    return found


def board(session: Session, stats: Statistics, config: WorkforceConfig, now: datetime) -> dict:
    """The whole board as plain data: the page renders it once, the event stream sends it again."""
    step = timedelta(minutes=config.interval_minutes)
    slot = datetime.fromtimestamp(now.timestamp() // step.total_seconds() * step.total_seconds(),
                                  tz=now.tzinfo)
    groups, staffing = [], None
    if stats.viewer.sees_calls:
        # Per group: its own agents on shift against the plan's need; the pool's agents (no
        # business group) serve the groups without agents of their own, in a row of their own.
        readings = latest_readings(session, now)
        planned = {group: sum(per.values())
                   for group, per in required_by_group(session, slot, slot + step).items()}
        on_duty = on_duty_by_group(session, now)
        for group in sorted(readings.keys() | planned.keys() | (on_duty.keys() - {None})):
            values = readings.get(group, {})
            mine, need = on_duty.get(group), planned.get(group)
            ratio = mine / need if mine is not None and need else None
            groups.append({"group": group, "planned": need, "on_duty": mine,
                           "staffing_level": level_of(config, "staffing_ratio", ratio), **{
                key: {"value": values.get(key), "level": level_of(config, key, values.get(key))}
                for key in LIVE_INDICATORS}})
        if None in on_duty and len(on_duty) > 1:
            groups.append({"group": POOL_LABEL, "planned": None, "on_duty": on_duty[None],
                           "staffing_level": 0, **{
                key: {"value": None, "level": 0} for key in LIVE_INDICATORS}})
        # The centre as a whole: everyone on shift against the whole plan's need.
        required, everyone = sum(planned.values()), sum(on_duty.values())
        ratio = everyone / required if required else None
        staffing = {"on_duty": everyone, "required": required, "ratio": ratio,
                    "level": level_of(config, "staffing_ratio", ratio)}
    overdue = stats.figures(indicators().get("overdue_now"), Period(now, now, now))
    return {
        "at": now.isoformat(), "groups": groups,
        # What the wall shows: the centre's own clock, to the second.
        "shown_at": now.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M:%S"),
        "staffing": staffing,
        "units": [{"label": row.label, "overdue": int(row.value or 0),
                   "level": level_of(config, "overdue_now", row.value)} for row in overdue.rows if row.value is not None
                  and row.unit.department_id is None],
        "overdue_total": int(overdue.total.value or 0),
    }
