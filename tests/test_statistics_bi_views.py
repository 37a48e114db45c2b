"""The BI views of migration 0025 against the dashboard, on the hand-counted centre of
tests/statistics_centre.py with faults, a callback that did not reach the customer and SMS
surveys added; then with upheld indicator appeals, which take their tickets out of the view of
that indicator exactly as out of `Statistics.figures`. SQLite and PostgreSQL.

Hand count for 2025-09-30 (province admin), before any appeal:
  回访满意率: T1 by 江苏95598中心 满意, T5 by 苏州分中心 不满意 then 满意; T3's 联系不上 is not
    counted: 2 of 3 (province), 1 of 1 (centre), 1 of 2 (苏州)
  满意度调查: T1 满意, T3 基本满意, T4 不满意 answered (南京), T2 无应答: 2 of 3; T5's answered
    survey was drawn at 00:30 on 10-01 and counts there
  回访不满意重办率: called back T1, T3, T5; reopened T5: 1 of 3
  重复报修: faults T3 T4 F1 F2 F4 F5; T4 at T3's address, F2 on F1's line; F4 is 31 days after F3
  工单量 9 (T1-T5, F1 F2 F4 F5); clocks decided 8, on time 4; arrive 1 of 2, restore 0 of 2;
  steps 8 over 290 minutes (T3's callback 30), 1 re-dispatch
"""

from datetime import date

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, select, text

from models.core.enums import Channel, DepartmentKind, TicketType
from models.org.organisation import Staff
from models.quality.tables import IndicatorAppeal, appeal_tickets
from models.surveys.answers import Answer, SurveyStatus
from models.surveys.tables import Survey
from models.tickets.ticket import Step, Ticket
from tasks.core.db import MIGRATIONS_DIR, session_scope
from tasks.statistics.aggregations import indicators
from tasks.statistics.figures import Statistics, Unit, local_period
from tests.statistics_centre import DAY, NOW, at, build

NEXT_DAY = date(2025, 10, 1)
# indicator: (view, numerator column, denominator column, condition)
VIEWS = {
    "ticket_volume": ("stat_tickets_daily", "tickets", "tickets", None),
    "on_time_rate": ("stat_clocks_daily", "on_time", "decided", None),
    "repair_arrival": ("stat_clocks_daily", "repair_on_time", "repair_decided", "clock = 'arrive'"),
    "repair_restore": ("stat_clocks_daily", "repair_on_time", "repair_decided",
                       "clock = 'restore'"),
    "step_handling": ("stat_steps_daily", "minutes_total", "steps", None),
    "redispatches": ("stat_steps_daily", "redispatches", "redispatches", None),
    "satisfaction": ("stat_callbacks_daily", "satisfied", "callbacks", None),
    "survey_satisfaction": ("stat_surveys_daily", "satisfied", "answered", None),
    "reopen_rate": ("stat_reopens_daily", "reopened", "called_back", None),
    "repeat_faults": ("stat_repeat_faults_daily", "repeat_faults", "repeat_faults", None),
}


@pytest.fixture
def centre(db_url):
    with session_scope(db_url) as session:
        made = build(session)
        regions, depts = made["regions"], made["departments"]
        tickets = {t.number: t for t in session.scalars(select(Ticket))}
        t3 = tickets["T3"]
        t3.steps.append(Step(step_key="callback", department=depts["CC"], attempt=1,
                             form="callback", opened_at=at(9, 30, 12, 30),
                             completed_at=at(9, 30, 13), status="done",
                             form_data={"result": "联系不上"}))
        for number, region, received, address, line in [
                ("F1", "320101", at(9, 30, 9), "北京东路1号", "10kV玄武线"),
                ("F2", "320102", at(9, 30, 16), "中山路9号", "10kV玄武线"),
                ("F3", "320501", at(8, 30, 16), "干将路1号", "10kV姑苏线"),
                ("F4", "320501", at(9, 30, 17), "干将路2号", "10kV姑苏线"),
                ("F5", "320501", at(9, 30, 18), "干将路3号", None)]:
            tickets[number] = Ticket(
                number=number, type=TicketType.fault_repair, channel=Channel.phone,
                content="停电", caller_name="李四", caller_phone="13800000001", address=address,
                line=line, region=regions[region], area_kind=regions[region].area_kind,
                received_at=received, rule_version="test")
            session.add(tickets[number])
        for number, status, answer, created in [
                ("T1", SurveyStatus.answered, Answer.satisfied, at(9, 30, 13)),
                ("T2", SurveyStatus.no_answer, None, at(9, 30, 20)),
                ("T3", SurveyStatus.answered, Answer.fairly, at(9, 30, 13)),
                ("T4", SurveyStatus.answered, Answer.unsatisfied, at(9, 30, 16)),
                ("T5", SurveyStatus.answered, Answer.satisfied, at(10, 1, 0, 30))]:
            ticket = tickets[number]
            session.add(Survey(campaign="回访调查", ticket=ticket, phone="13800000000",
                               region=ticket.region, ticket_type=ticket.type, seed=1, draw=0.1,
                               rate=1.0, valid_hours=24, status=status, created_at=created,
                               answer=answer))
        session.flush()
        return {"regions": {code: r.id for code, r in regions.items()},
                "departments": {code: d.id for code, d in depts.items()},
                "tickets": {number: t.id for number, t in tickets.items()}}


def appeal(db_url, centre, indicator: str, numbers: list[str], upheld: bool | None = True):
    with session_scope(db_url) as session:
        admin = session.scalar(select(Staff).where(Staff.code == "P-ADM"))
        filed = IndicatorAppeal(
            indicator=indicator, region_id=centre["regions"]["32"], period_start=DAY.replace(day=1),
            figure="—", reason="客户要求延期", filed_by_id=admin.id, filed_at=NOW,
            department_kind=DepartmentKind.service_centre,
            department_id=centre["departments"]["CC"], due_at=NOW, upheld=upheld)
        session.add(filed)
        session.flush()
        session.execute(appeal_tickets.insert(), [
            {"appeal_id": filed.id, "ticket_id": centre["tickets"][n]} for n in numbers])


def figures(db_url, key: str, unit: Unit, day: date = DAY,
            dimension: str | None = None):
    with session_scope(db_url) as session:
        stats = Statistics(session, session.scalar(select(Staff).where(Staff.code == "P-ADM")))
        found = stats.figures(indicators().get(key), local_period(day, day, "Asia/Shanghai", NOW),
                              unit, dimension)
        if dimension:
            return {row.label: (row.num, row.den) for row in found.by_dimension}
        return found.total.num, found.total.den


def from_view(db_url, key: str, unit: Unit, day: date = DAY, group_by: str | None = None):
    """The indicator's numerator and denominator as a BI tool reads them from its view."""
    view, num, den, condition = VIEWS[key]
    where = [f"CAST(day AS VARCHAR(10)) = '{day.isoformat()}'"]
    if unit.department_id is None:
        where.append(f"region_path LIKE '%/{unit.region_id}/%'")
    else:
        where.append(f"region_id = {unit.region_id} AND department_id = {unit.department_id}")
    if condition:
        where.append(condition)
    with session_scope(db_url) as session:
        if group_by:
            return {value: (float(n), float(d)) for value, n, d in session.execute(text(
                f"SELECT {group_by}, SUM({num}), SUM({den}) FROM {view} "
                f"WHERE {' AND '.join(where)} GROUP BY {group_by}"))}
        n, d = session.execute(text(f"SELECT COALESCE(SUM({num}), 0), COALESCE(SUM({den}), 0) "
                                    f"FROM {view} WHERE {' AND '.join(where)}")).one()
        return float(n), float(d)


def check(db_url, centre, expected: dict[tuple, tuple]) -> None:
    """Each (indicator, unit code[, department code][, day]) gives the hand-counted (num, den)
    on the dashboard and in the view."""
    regions, depts = centre["regions"], centre["departments"]
    for (key, region, *rest), counted in expected.items():
        department = next((depts[r] for r in rest if isinstance(r, str)), None)
        day = next((r for r in rest if isinstance(r, date)), DAY)
        unit = Unit(regions[region], department)
        assert (figures(db_url, key, unit, day), from_view(db_url, key, unit, day)) == (
            counted, counted), (key, region, *rest)


def test_the_new_views_give_the_dashboards_figures(db_url, centre):
    check(db_url, centre, {
        ("satisfaction", "32"): (2, 3), ("satisfaction", "3205"): (1, 2),
        ("satisfaction", "3201"): (0, 0), ("satisfaction", "32", "CC"): (1, 1),
        ("satisfaction", "3205", "B-CC"): (1, 2),
        ("survey_satisfaction", "32"): (2, 3), ("survey_satisfaction", "320102"): (1, 2),
        ("survey_satisfaction", "3205"): (0, 0),
        ("survey_satisfaction", "32", NEXT_DAY): (1, 1),
        ("survey_satisfaction", "3205", NEXT_DAY): (1, 1),
        ("reopen_rate", "32"): (1, 3), ("reopen_rate", "3201"): (0, 2),
        ("reopen_rate", "3205"): (1, 1),
        ("repeat_faults", "32"): (2, 2), ("repeat_faults", "320102"): (2, 2),
        ("repeat_faults", "320101"): (0, 0), ("repeat_faults", "3205"): (0, 0),
        ("ticket_volume", "32"): (9, 9), ("on_time_rate", "32"): (4, 8),
        ("repair_arrival", "32"): (1, 2), ("repair_restore", "32"): (0, 2),
        ("step_handling", "32"): (290, 8), ("redispatches", "32"): (1, 1),
    })
    province = Unit(centre["regions"]["32"])
    assert figures(db_url, "survey_satisfaction", province, dimension="type") == {
        "投诉": (1, 1), "故障报修": (1, 2)}
    assert from_view(db_url, "survey_satisfaction", province, group_by="ticket_type") == {
        "complaint": (1, 1), "fault_repair": (1, 2)}
    with session_scope(db_url) as session:
        assert session.execute(text(
            "SELECT SUM(fault_tickets) FROM stat_repeat_faults_daily "
            "WHERE CAST(day AS VARCHAR(10)) = '2025-09-30'")).scalar() == 6


def test_an_upheld_appeal_takes_its_tickets_out_of_that_indicators_view(db_url, centre):
    appeal(db_url, centre, "satisfaction", ["T5"])
    appeal(db_url, centre, "satisfaction", ["T1"], upheld=None)  # pending: still counted
    appeal(db_url, centre, "reopen_rate", ["T1"])
    appeal(db_url, centre, "survey_satisfaction", ["T3"])
    appeal(db_url, centre, "repeat_faults", ["T4"])
    appeal(db_url, centre, "repeat_faults", ["F2"], upheld=False)  # refused: still counted
    appeal(db_url, centre, "on_time_rate", ["T1"])
    appeal(db_url, centre, "repair_arrival", ["T4"])
    appeal(db_url, centre, "redispatches", ["T1"])
    appeal(db_url, centre, "ticket_volume", ["F5"])
    check(db_url, centre, {
        # T5 out of the callbacks' satisfaction only; T1's pending appeal changes nothing.
        ("satisfaction", "32"): (1, 1), ("satisfaction", "3205"): (0, 0),
        ("satisfaction", "3205", "B-CC"): (0, 0), ("satisfaction", "32", "CC"): (1, 1),
        # T1 out of the reopen rate, T5 still in it.
        ("reopen_rate", "32"): (1, 2), ("reopen_rate", "3201"): (0, 1),
        ("reopen_rate", "3205"): (1, 1),
        ("survey_satisfaction", "32"): (1, 2), ("survey_satisfaction", "320102"): (0, 1),
        ("repeat_faults", "32"): (1, 1), ("repeat_faults", "320102"): (1, 1),
        ("ticket_volume", "32"): (8, 8), ("ticket_volume", "3205"): (2, 2),
        # T1's clock out of 按时办结率; T4's arrival out of 抢修到达及时率 only.
        ("on_time_rate", "32"): (3, 7), ("repair_arrival", "32"): (1, 1),
        ("repair_restore", "32"): (0, 2),
        ("step_handling", "32"): (290, 8), ("redispatches", "32"): (0, 0),
    })
    with session_scope(db_url) as session:
        assert session.execute(text(
            "SELECT SUM(fault_tickets) FROM stat_repeat_faults_daily "
            "WHERE CAST(day AS VARCHAR(10)) = '2025-09-30'")).scalar() == 5


def test_the_migration_goes_down_to_the_previous_views_and_up_again(db_url):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))

    def columns(view: str) -> list[str] | None:
        engine = create_engine(db_url)
        try:
            if view not in inspect(engine).get_view_names():
                return None
            with engine.connect() as connection:
                return list(connection.execute(text(f"SELECT * FROM {view}")).keys())
        finally:
            engine.dispose()

    command.downgrade(config, "0024")
    assert columns("stat_callbacks_daily") is None
    assert columns("stat_clocks_daily") == ["day", "region_id", "ticket_type", "clock", "decided",
                                            "on_time", "overdue_now", "region_path"]
    # A unit's view over ours, as docs/statistics.md suggests for PostgreSQL's per-unit roles:
    # the upgrade replaces the views under it in place.
    with session_scope(db_url) as session:
        session.execute(text("CREATE VIEW bi_suzhou_tickets AS SELECT * FROM stat_tickets_daily "
                             "WHERE region_path LIKE '%/3/%'"))
    command.upgrade(config, "head")
    assert columns("bi_suzhou_tickets") == ["day", "region_id", "ticket_type", "channel",
                                            "tickets", "region_path"]
    assert columns("stat_clocks_daily")[-3:] == ["region_path", "repair_decided",
                                                 "repair_on_time"]
    assert columns("stat_repeat_faults_daily") == ["day", "region_id", "fault_tickets",
                                                   "repeat_faults", "region_path"]
