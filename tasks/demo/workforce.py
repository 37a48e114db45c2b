"""The demo centre's telephony week, for `gridline up`'s wallboard: twelve more agents (seven of
them the fault-repair group's own), a staffing plan for a believable day of calls (Erlang C
against the workforce file's targets) and a roster solved for it, as a centre's planners would
make them with `gridline staffing` and `gridline roster make`."""

import math
import random
from datetime import datetime, timedelta

import pendulum
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.core.days import local_day_start
from models.core.enums import StaffRole
from models.org.organisation import Staff
from models.workforce.config import WorkforceConfig
from models.workforce.roster import DAYS
from models.workforce.staffing import required_agents
from tasks.demo.seed import NameMaker, staff_member
from tasks.workforce.planning import GroupPlan, Interval, store_plan
from tasks.workforce.rostering import make_roster, store_roster

# Calls in the busiest half hour, and the average handle time: a small city's queues.
GROUPS = {"故障报修": (3, 240), "咨询查询": (6, 300)}
OWN_AGENTS = {"故障报修": 7}  # the rest of the new agents, like the first eight, are the pool
NEW_AGENTS = 12


def _shape(hour: float) -> float:
    """A day of calls: a night trough, a morning peak at ten and a smaller one at four."""
    return (0.15 + math.exp(-0.5 * ((hour - 10) / 2.5) ** 2)
            + 0.8 * math.exp(-0.5 * ((hour - 16) / 2.5) ** 2))


def demo_workforce(session: Session, *, now: datetime, config: WorkforceConfig,
                   timezone: str) -> dict:
    """Agents, the week's plan and roster; what was made."""
    centre = session.scalar(select(Staff).where(Staff.code == "S0100"))
    names, own = NameMaker(random.Random(95599)), [g for g, n in OWN_AGENTS.items() for _ in range(n)]
    for i in range(NEW_AGENTS):
        agent = staff_member(session, names, f"S01{8 + i:02d}", StaffRole.agent, centre.department,
                             centre.supervisor)
        agent.password_hash = centre.password_hash  # the demo's one password
        agent.business_group = own[i] if i < len(own) else None
    session.flush()
    # From yesterday: last night's shift, still on until seven, is on the wall too.
    start = pendulum.instance(now).in_timezone(timezone).date() - timedelta(days=1)
    step = config.interval_minutes * 60
    plans = []
    for group, (peak, aht) in GROUPS.items():
        intervals = []
        for day in range(DAYS):
            first = local_day_start(start + timedelta(days=day), timezone)
            for slot in range(config.slots):
                calls = peak * _shape((slot + 0.5) * step / 3600)
                intervals.append(Interval(first + timedelta(seconds=slot * step), calls,
                                          required_agents(calls, aht, step, config.target(group))))
        plans.append(GroupPlan(group, aht, None, intervals))
    intervals = store_plan(session, plans, made_at=now)
    week = make_roster(session, start=start, config=config, timezone=timezone)
    shifts = len(store_roster(session, week, timezone))
    return {"staff": session.scalar(select(func.count()).select_from(Staff)),
            "plan_intervals": intervals, "shifts": shifts}
