"""The week's roster: requirement from the stored staffing plan, agents from the staff list,
the solver's roster stored and exported to Excel."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pendulum
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from sqlalchemy import delete
from sqlalchemy.orm import Session

from models.core.days import local_day_start
from models.core.enums import StaffRole
from models.core.errors import InputError
from models.org.organisation import Staff
from models.workforce.config import WorkforceConfig
from models.workforce.roster import DAYS, NoRoster, Roster, Rules, Shift, joined, solve_roster
from models.workforce.tables import RosterShift
from tasks.workforce.alerts import POOL_LABEL, recipients
from tasks.workforce.planning import required_by_group

WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class Team:
    """Agents rostered together against one requirement: a business group's own agents, or the
    pool (agents of no group) for every group of the plan without agents of its own."""

    group: str | None
    staff: list[Staff]
    covers: set[str]  # the staffing plan's groups


def teams(agents: list[Staff], plan_groups: set[str]) -> list[Team]:
    """Until an agent is given a business group, the whole centre is one pool. The pool is a
    team whenever it has agents or a need, or when there is no other (then an empty roster)."""
    own: dict[str, list[Staff]] = {}
    for agent in agents:
        if agent.business_group:
            own.setdefault(agent.business_group, []).append(agent)
    found = [Team(group, staff, {group}) for group, staff in sorted(own.items())]
    pool = Team(None, [a for a in agents if not a.business_group], plan_groups - own.keys())
    return [*found, pool] if pool.staff or pool.covers or not found else found


@dataclass(frozen=True)
class WeekRoster:
    start: date
    staff: list[Staff]
    shifts: list[Shift]
    roster: Roster
    interval_starts: list[datetime]  # UTC, one per interval of the week


def centre_agents(session: Session) -> list[Staff]:
    return recipients(session, [StaffRole.agent])


def make_roster(session: Session, *, start: date, config: WorkforceConfig,
                timezone: str) -> WeekRoster:
    step = timedelta(minutes=config.interval_minutes)
    first = local_day_start(start, timezone)
    starts = [first + i * step for i in range(DAYS * config.slots)]
    needed = required_by_group(session, starts[0], starts[-1] + step)
    shifts = [Shift(s.code, s.start, s.hours) for s in config.shifts]
    rules = Rules(config.min_rest_hours, config.max_shifts_per_week)
    found = teams(centre_agents(session), set(needed))
    staff, parts = [], []
    for team in found:
        required = np.array([sum(needed[g].get(at, 0) for g in team.covers if g in needed)
                             for at in starts], dtype=int)
        try:
            roster = solve_roster(required, shifts, len(team.staff), rules, slots=config.slots,
                                  time_limit_s=config.roster_time_limit_s / len(found))
        except NoRoster as exc:
            raise InputError("roster_time_limit_s", "求解器在时限内未找到排班，请放宽时限或规则",
                             str(exc)) from exc
        parts.append((roster, len(staff)))
        staff += team.staff
    return WeekRoster(start, staff, shifts, joined(parts), starts)


def store_roster(session: Session, week: WeekRoster, timezone: str) -> list[RosterShift]:
    """Replace the shifts that start in the week with the new roster."""
    first = local_day_start(week.start, timezone)
    session.execute(delete(RosterShift).where(RosterShift.start_at >= first,
                                              RosterShift.start_at < first + timedelta(days=DAYS)))
    by_code = {s.code: s for s in week.shifts}
    rows = []
    for s, d, code in week.roster.assignments:
        shift = by_code[code]
        day = week.start + timedelta(days=d)
        begin = pendulum.datetime(day.year, day.month, day.day, shift.start.hour,
                                  shift.start.minute, tz=timezone).in_timezone("UTC")
        person = week.staff[s]
        rows.append(RosterShift(staff_id=person.id, shift=code, start_at=begin,
                                end_at=begin + timedelta(hours=shift.hours),
                                business_group=person.business_group))
    session.add_all(rows)
    session.flush()
    return rows


def export_roster(week: WeekRoster, path: Path, config: WorkforceConfig, timezone: str) -> None:
    """Two sheets: the roster, and required vs planned agents per interval with a chart."""
    names = {s.code: f"{s.name} {s.start:%H:%M}" for s in config.shifts}
    book = Workbook()
    sheet = book.active
    sheet.title = "排班表"
    days = [week.start + timedelta(days=d) for d in range(DAYS)]
    sheet.append(["工号", "姓名", "业务组"]
                 + [f"{d:%m-%d} 周{WEEKDAYS[d.weekday()]}" for d in days])
    plan = {(s, d): code for s, d, code in week.roster.assignments}
    for s, person in enumerate(week.staff):
        sheet.append([person.code, person.name, person.business_group or POOL_LABEL]
                     + [names[plan[s, d]] if (s, d) in plan else "休" for d in range(DAYS)])

    cover = book.create_sheet("需求与排班")
    cover.append(["时段", "需求人数", "排班人数", "缺口"])
    roster = week.roster
    zone = ZoneInfo(timezone)  # cached, unlike pendulum's in_timezone(str) per interval
    for at, need, planned in zip(week.interval_starts, roster.required, roster.planned, strict=True):
        local = at.astimezone(zone)
        cover.append([local.strftime("%m-%d %H:%M"), int(need), int(planned),
                      max(0, int(need) - int(planned))])
    chart = LineChart()
    chart.title = "需求人数与排班人数"
    chart.y_axis.title = "人数"
    chart.x_axis.title = "时段"
    rows = len(roster.required) + 1
    chart.add_data(Reference(cover, min_col=2, max_col=3, min_row=1, max_row=rows),
                   titles_from_data=True)
    chart.set_categories(Reference(cover, min_col=1, min_row=2, max_row=rows))
    chart.width, chart.height = 40, 12
    cover.add_chart(chart, "F2")
    book.save(path)
