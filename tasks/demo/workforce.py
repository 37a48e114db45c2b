"""The demo centre's telephony, for `gridline up`'s wallboard and dashboard: twelve more agents
(seven of them the fault-repair group's own), eight weeks of calls of its two groups up to now,
imported as a centre's telephony export is, the groups' live readings, and a staffing plan
forecast from those calls (Erlang C against the workforce file's targets) with a roster solved for
it, as a centre's planners would make them with `gridline staffing` and `gridline roster make`."""

import random
from datetime import date, datetime, timedelta

import numpy as np
import pendulum
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.core.enums import StaffRole
from models.org.organisation import Staff
from models.workforce.callgen import day_counts, is_fault_group, records
from models.workforce.config import WorkforceConfig
from models.workforce.forecast import History
from models.workforce.roster import DAYS
from models.workforce.tables import CallRecord
from tasks.demo.seed import NameMaker, staff_member
from tasks.workforce.alerts import record_live
from tasks.workforce.calls import import_calls
from tasks.workforce.planning import make_plan, store_plan
from tasks.workforce.rostering import make_roster, store_roster

# Calls of a normal Wednesday, and the mean handle time (talk and wrap-up, seconds): a small
# city's queues, a few calls in the busiest half hour.
GROUPS = {"故障报修": (60, 240), "咨询查询": (110, 300)}
HISTORY_DAYS = 8 * 7  # whole days before today; today's calls run up to now
OUTAGE_DAYS_AGO = 6   # a storm's afternoon floods 故障报修, as callgen's outage day does
OWN_AGENTS = {"故障报修": 7}  # the rest of the new agents, like the first eight, are the pool
NEW_AGENTS = 12
SEED = 95598
ABANDON_AFTER_S = 30  # half the callers who wait this long hang up: some 4 % of the calls
ANSWER_RATE_OVER = timedelta(hours=24)  # the live answer rate: the share of these calls answered


def demo_history(today: date) -> dict[str, History]:
    """Calls per group, day and half hour from HISTORY_DAYS before `today` through `today`."""
    rng = np.random.default_rng(SEED)
    first, outage = today - timedelta(days=HISTORY_DAYS), today - timedelta(days=OUTAGE_DAYS_AGO)
    return {group: day_counts(rng, daily, first, today,
                              outage=outage if is_fault_group(group) else None)
            for group, (daily, _) in GROUPS.items()}


def demo_calls(history: dict[str, History], *, now: datetime, timezone: str):
    """The history as the telephony's export rows, (row number, row), none after `now`."""
    rows = records(history, timezone, SEED, {group: aht for group, (_, aht) in GROUPS.items()},
                   abandon_after_s=ABANDON_AFTER_S)
    return enumerate((r for r in rows if datetime.fromisoformat(r["offered_at"]) <= now), 2)


def live_values(session: Session, group: str, now: datetime) -> dict[str, float]:
    """What the group's switch would report now: the calls still waiting, and the share answered
    of the calls of the last ANSWER_RATE_OVER."""
    calls = session.execute(select(CallRecord.offered_at, CallRecord.wait_s, CallRecord.answered)
                            .where(CallRecord.group == group,
                                   CallRecord.offered_at > now - ANSWER_RATE_OVER,
                                   CallRecord.offered_at <= now)).all()
    waiting = sum(at + timedelta(seconds=wait) > now for at, wait, _ in calls)
    answered = sum(answered for *_, answered in calls)
    return {"queue_length": float(waiting), "answer_rate": answered / len(calls)} if calls else {}


def demo_workforce(session: Session, *, now: datetime, config: WorkforceConfig,
                   timezone: str) -> dict:
    """Agents, their calls and live readings, the week's plan and roster; what was made."""
    centre = session.scalar(select(Staff).where(Staff.code == "S0100"))
    names, own = NameMaker(random.Random(95599)), [g for g, n in OWN_AGENTS.items() for _ in range(n)]
    for i in range(NEW_AGENTS):
        agent = staff_member(session, names, f"S01{8 + i:02d}", StaffRole.agent, centre.department,
                             centre.supervisor)
        agent.password_hash = centre.password_hash  # the demo's one password
        agent.business_group = own[i] if i < len(own) else None
    session.flush()
    # Eight weeks of calls, through the import a centre's telephony export goes through.
    today = pendulum.instance(now).in_timezone(timezone).date()
    report = import_calls(session, demo_calls(demo_history(today), now=now, timezone=timezone),
                          timezone)
    if report.bad:
        raise ValueError(f"demo call records rejected: {report.bad[:3]}")
    readings = 0
    for group in GROUPS:
        values = live_values(session, group, now)
        record_live(session, group=group, readings=values, at=now, config=config,
                    timezone=timezone)
        readings += len(values)
    # From yesterday: last night's shift, still on until seven, is on the wall too.
    start = today - timedelta(days=1)
    plans = make_plan(session, now=now, config=config, timezone=timezone, start=start, days=DAYS)
    intervals = store_plan(session, plans, made_at=now)
    week = make_roster(session, start=start, config=config, timezone=timezone)
    shifts = len(store_roster(session, week, timezone))
    return {"staff": session.scalar(select(func.count()).select_from(Staff)),
            "calls": report.added, "live_readings": readings,
            "plan_intervals": intervals, "shifts": shifts}
