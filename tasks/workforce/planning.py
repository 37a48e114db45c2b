"""Forecast and staffing plan of every business group from the stored call history."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pendulum
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models.core.days import local_day_start
from models.workforce.config import WorkforceConfig
from models.workforce.forecast import Backtest, backtest, forecast
from models.workforce.staffing import Staffing, required_agents
from models.workforce.tables import StaffingPlan
from tasks.tickets.calendar_store import load_day_kinds
from tasks.workforce.calls import average_handle_times, load_history


@dataclass(frozen=True)
class Interval:
    start: datetime  # UTC
    calls: float
    staffing: Staffing | None = None


@dataclass(frozen=True)
class GroupPlan:
    group: str
    aht_s: float
    backtest: Backtest | None  # None when the history is too short to replay
    intervals: list[Interval]


def make_plan(session: Session, *, now: datetime, config: WorkforceConfig, timezone: str,
              start: date, days: int, with_staffing: bool = True) -> list[GroupPlan]:
    today = pendulum.instance(now).in_timezone(timezone).date()
    histories = load_history(session, before=today, days=config.history_days, timezone=timezone,
                             interval_minutes=config.interval_minutes)
    handle_times = average_handle_times(session, since=now - timedelta(days=config.aht_days))
    interval_s = config.interval_minutes * 60
    local = load_day_kinds(session)
    plans = []
    for group, history in sorted(histories.items()):
        try:
            test = backtest(history, config.backtest_weeks, local)
        except ValueError:
            test = None
        volumes = forecast(history, start, days, local)
        aht = handle_times.get(group, 0.0)
        target = config.target(group)
        intervals = []
        for d, row in enumerate(volumes):
            day_start = local_day_start(start + timedelta(days=d), timezone)
            for slot, calls in enumerate(row):
                staffing = (required_agents(float(calls), aht, interval_s, target)
                            if with_staffing else None)
                intervals.append(Interval(day_start + timedelta(seconds=slot * interval_s),
                                          float(calls), staffing))
        plans.append(GroupPlan(group, aht, test, intervals))
    return plans


def store_plan(session: Session, plans: list[GroupPlan], *, made_at: datetime) -> int:
    """Replace the stored plan of the same groups and intervals: a re-run never doubles a row."""
    rows = 0
    for plan in plans:
        starts = [i.start for i in plan.intervals]
        session.execute(delete(StaffingPlan).where(
            StaffingPlan.group == plan.group, StaffingPlan.interval_start >= min(starts),
            StaffingPlan.interval_start <= max(starts)))
        session.add_all(StaffingPlan(
            group=plan.group, interval_start=i.start, calls=i.calls, aht_s=plan.aht_s,
            agents=i.staffing.agents, rostered=i.staffing.rostered,
            service_level=i.staffing.service_level, asa_s=min(i.staffing.asa_s, 1e9),
            occupancy=i.staffing.occupancy, abandon_rate=i.staffing.abandon_rate, made_at=made_at,
        ) for i in plan.intervals)
        rows += len(plan.intervals)
    session.flush()
    return rows


def required_by_group(session: Session, start: datetime,
                      end: datetime) -> dict[str, dict[datetime, int]]:
    """{group: {interval start: agents to roster (after shrinkage)}} from the stored plan."""
    needed: dict[str, dict[datetime, int]] = {}
    for group, at, rostered in session.execute(
            select(StaffingPlan.group, StaffingPlan.interval_start, StaffingPlan.rostered)
            .where(StaffingPlan.interval_start >= start, StaffingPlan.interval_start < end)):
        needed.setdefault(group, {})[at] = rostered
    return needed


def required_per_interval(session: Session, start: datetime, end: datetime) -> dict[datetime, int]:
    """Agents to roster per interval, all groups together."""
    needed: dict[datetime, int] = {}
    for per_interval in required_by_group(session, start, end).values():
        for at, n in per_interval.items():
            needed[at] = needed.get(at, 0) + n
    return needed
