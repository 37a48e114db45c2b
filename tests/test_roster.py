"""Rostering with CP-SAT: every interval covered, rest rules kept, few hours; the CLI and Excel."""

from datetime import datetime, timedelta

import numpy as np
import pendulum
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models.core.enums import DepartmentKind, StaffRole
from models.org.organisation import Department, Staff
from models.workforce.config import load_workforce_config
from models.workforce.roster import Rules, Shift, solve_roster
from models.workforce.tables import RosterShift, StaffingPlan
from tasks.core.db import session_scope
from tests.cli import run_cli

SHIFTS = [Shift(s.code, s.start, s.hours) for s in load_workforce_config().shifts]
RULES = Rules(min_rest_hours=12, max_shifts_per_week=5)


def weekly_need(night: int, day: int, evening: int) -> np.ndarray:
    hours = np.arange(48) / 2
    one_day = np.where((hours >= 8) & (hours < 18), day,
                       np.where((hours >= 18) & (hours < 22), evening, night))
    week = np.tile(one_day, 7)
    week[5 * 48:] = np.maximum(week[5 * 48:] - 1, night)  # quieter weekend
    return week


def covered_by(assignments, shifts) -> np.ndarray:
    """Recount from the assignments alone: who is at work in each half hour of the cyclic week."""
    by_code = {s.code: s for s in shifts}
    at_work = np.zeros(7 * 48, dtype=int)
    for _, day, code in assignments:
        shift = by_code[code]
        first = day * 48 + shift.start.hour * 2 + shift.start.minute // 30
        for i in range(int(shift.hours * 2)):
            at_work[(first + i) % (7 * 48)] += 1
    return at_work


def assert_rest_rules(assignments, shifts, rules):
    by_code = {s.code: s for s in shifts}
    per_agent: dict[int, list[tuple[float, float]]] = {}
    for agent, day, code in assignments:
        shift = by_code[code]
        begin = day * 24 + shift.start.hour + shift.start.minute / 60
        per_agent.setdefault(agent, []).append((begin, begin + shift.hours))
    for spans in per_agent.values():
        assert len(spans) <= rules.max_shifts_per_week
        spans.sort()
        wrapped = spans + [(spans[0][0] + 7 * 24, spans[0][1] + 7 * 24)]  # the next week
        for (_, end), (begin, _) in zip(wrapped, wrapped[1:], strict=False):
            assert begin - end >= rules.min_rest_hours


def test_solver_roster_covers_every_interval_with_hours_at_the_bound():
    need = weekly_need(night=2, day=6, evening=4)
    roster = solve_roster(need, SHIFTS, staff=24, rules=RULES, time_limit_s=20)
    at_work = covered_by(roster.assignments, SHIFTS)
    assert (at_work >= need).all()
    assert (roster.planned == at_work).all() and not roster.shortfall.any()
    assert_rest_rules(roster.assignments, SHIFTS, RULES)
    assert roster.optimal
    assert roster.agent_hours == 8 * len(roster.assignments)
    assert roster.lp_bound_hours <= roster.agent_hours <= 1.02 * roster.lp_bound_hours


def test_too_few_agents_leave_a_visible_shortfall_but_keep_the_rules():
    need = weekly_need(night=2, day=6, evening=4)
    roster = solve_roster(need, SHIFTS, staff=6, rules=RULES, time_limit_s=10)
    assert roster.shortfall.sum() > 0
    assert ((covered_by(roster.assignments, SHIFTS) + roster.shortfall) >= need).all()
    assert_rest_rules(roster.assignments, SHIFTS, RULES)
    assert len(roster.assignments) == 6 * RULES.max_shifts_per_week  # every agent used fully


@pytest.fixture
def centre_with_plan(db_url, capsys):
    assert run_cli(capsys, "demo", "seed", "--tickets", "0").code == 0
    start = pendulum.datetime(2026, 11, 24, tz="Asia/Shanghai").in_timezone("UTC")
    need = weekly_need(night=1, day=4, evening=2)
    with session_scope(db_url) as session:
        centre = session.scalar(select(Department)
                                .where(Department.kind == DepartmentKind.service_centre))
        for i in range(8):
            session.add(Staff(code=f"S09{i:02d}", name=f"新坐席{i}", role=StaffRole.agent,
                              phone=f"1390000{i:04d}", department=centre))
        session.add_all(StaffingPlan(
            group="咨询查询", interval_start=start + timedelta(minutes=30 * t), calls=n * 10.0,
            aht_s=180, agents=n, rostered=int(n), service_level=0.8, asa_s=10, occupancy=0.5,
            abandon_rate=0, made_at=datetime.now().astimezone()) for t, n in enumerate(need))
    return need


def test_roster_make_stores_shifts_and_exports_excel(db_url, centre_with_plan, tmp_path, capsys):
    path = tmp_path / "roster.xlsx"
    result = run_cli(capsys, "roster", "make", "--from", "2026-11-24", "--xlsx", str(path),
                     "--now", "2026-11-23T20:00:00+08:00", "--json")
    assert result.code == 0, result.err
    summary = result.json()
    assert summary["agents"] == 16 and summary["short_intervals"] == 0
    assert summary["gap"] < 0.02
    with session_scope(db_url) as session:
        stored = session.scalars(select(RosterShift)).all()
        assert len(stored) == summary["shifts"]
        assert all(s.end_at - s.start_at == timedelta(hours=8) for s in stored)

    book = load_workbook(path)
    roster, cover = book["排班表"], book["需求与排班"]
    assert [c.value for c in roster[1]][:4] == ["工号", "姓名", "业务组", "11-24 周二"]
    assert roster.max_row == 1 + 16
    assert {row[2] for row in roster.iter_rows(min_row=2, values_only=True)} == {"公共坐席"}
    cells = [c.value for row in roster.iter_rows(min_row=2, min_col=4) for c in row]
    assert cells.count("休") == 16 * 7 - summary["shifts"]
    assert [c.value for c in cover[1]] == ["时段", "需求人数", "排班人数", "缺口"]
    rows = list(cover.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 7 * 48 and rows[0][0] == "11-24 00:00"
    assert [r[1] for r in rows] == list(centre_with_plan)
    assert all(planned >= need and gap == 0 for _, need, planned, gap in rows)
    assert len(cover._charts) == 1

    again = run_cli(capsys, "roster", "make", "--from", "2026-11-24",
                    "--now", "2026-11-23T20:00:00+08:00")
    assert again.code == 0 and "差距" in again.out
    with session_scope(db_url) as session:
        assert len(session.scalars(select(RosterShift)).all()) == summary["shifts"]


def test_agents_of_a_business_group_cover_its_need_and_the_pool_covers_the_rest(
        db_url, centre_with_plan, capsys):
    """Six new agents answer 故障报修 only: they are rostered against its need alone, the pool
    against 咨询查询's; a deactivated agent gets no shift. The wallboard counts each group's own."""
    start = pendulum.datetime(2026, 11, 24, tz="Asia/Shanghai").in_timezone("UTC")
    faults = weekly_need(night=0, day=2, evening=1)
    fault_agents = [f"S095{i}" for i in range(6)]
    with session_scope(db_url) as session:
        centre = session.scalar(select(Department)
                                .where(Department.kind == DepartmentKind.service_centre))
        session.add_all(Staff(code=code, name=f"抢修坐席{i}", role=StaffRole.agent,
                              phone=f"1390001{i:04d}", department=centre, business_group="故障报修")
                        for i, code in enumerate(fault_agents))
        session.scalar(select(Staff).where(Staff.code == "S0907")).active = False
        session.add_all(StaffingPlan(
            group="故障报修", interval_start=start + timedelta(minutes=30 * t), calls=n * 10.0,
            aht_s=300, agents=n, rostered=int(n), service_level=0.8, asa_s=10, occupancy=0.5,
            abandon_rate=0, made_at=datetime.now().astimezone()) for t, n in enumerate(faults))
    result = run_cli(capsys, "roster", "make", "--from", "2026-11-24",
                     "--now", "2026-11-23T20:00:00+08:00", "--json")
    assert result.code == 0, result.err
    assert result.json()["agents"] == 16 + 6 - 1
    starts = [start + timedelta(minutes=30 * t) for t in range(7 * 48)]
    with session_scope(db_url) as session:
        shifts = session.scalars(select(RosterShift)).all()
        groups = {s.staff.code: s.business_group for s in shifts}
        assert "S0907" not in groups
        assert {groups[c] for c in fault_agents if c in groups} == {"故障报修"}
        assert {g for c, g in groups.items() if c not in fault_agents} == {None}

        def at_work(group):  # the week is a cycle: the last night covers the first morning
            return np.array([sum(1 for s in shifts if s.business_group == group and any(
                s.start_at <= t < s.end_at for t in (at, at + timedelta(days=7))))
                for at in starts])
        assert (at_work("故障报修") >= faults).all()
        assert (at_work(None) >= centre_with_plan).all()

        from models.workforce.config import load_workforce_config as config
        from tasks.statistics.figures import Statistics
        from tasks.statistics.live import board
        now = start + timedelta(days=1, hours=11)  # Wednesday 11:00 in Shanghai
        wall = board(session, Statistics(session, session.scalar(
            select(Staff).where(Staff.code == "S0001"))), config(), now)
        rows = {g["group"]: g for g in wall["groups"]}
        index = starts.index(now)
        assert rows["故障报修"]["on_duty"] == at_work("故障报修")[index]
        assert rows["故障报修"]["planned"] == faults[index]
        assert rows["咨询查询"]["on_duty"] is None
        assert rows["公共坐席"]["on_duty"] == at_work(None)[index]
        assert wall["staffing"]["on_duty"] == at_work("故障报修")[index] + at_work(None)[index]
