"""Indicator figures against the hand-counted centre of tests/statistics_centre.py, and the scope
rule: a person sees their region's subtree only.

Hand count for 2025-09-30 (judged at 2025-10-10 12:00):
  tickets received: T1 T2 (玄武区), T3 T4 (秦淮区), T5 (姑苏区) = 5; T6 is the 29th, T7 the 10th
  clocks decided 8, on time 4 (T1 contact, T2 reply after the holiday, T3 arrive, T5 reply)
  steps completed: 60 + 10 + 120 + 10 + 30 + 10 + 20 = 260 min over 7; T2's step ends on 10-01
"""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models.cases.case import Case
from models.core.enums import TicketType
from models.org.organisation import Department, Staff
from models.tickets.ticket import Step, Ticket
from tasks.core.db import session_scope
from tasks.statistics.aggregations import indicators
from tasks.statistics.figures import Statistics, Unit, local_period
from tests.statistics_centre import DAY, NOW, at, build, unit_ids

TZ = "Asia/Shanghai"


@pytest.fixture
def centre(db_url):
    with session_scope(db_url) as session:
        return unit_ids(build(session))


def stats_of(session, code: str) -> Statistics:
    return Statistics(session, session.scalar(select(Staff).where(Staff.code == code)))


def day(first: date = DAY, last: date | None = None):
    return local_period(first, last or first, TZ, NOW)


def values(figures) -> dict[str, float | None]:
    return {row.label: row.value for row in [figures.total, *figures.rows]}


def test_a_callback_retried_after_no_answer_is_not_a_reopen(db_url, centre):
    with session_scope(db_url) as session:
        # T1's customer did not answer the first callback; the second reached them, satisfied.
        [first] = session.scalars(select(Step).join(Ticket).where(
            Ticket.type == TicketType.complaint, Step.step_key == "callback")).all()
        first.form_data = {"result": "联系不上"}
        first.ticket.steps.append(Step(
            step_key="callback", department=first.department, attempt=2, form="callback",
            opened_at=first.completed_at, completed_at=first.completed_at + timedelta(hours=1),
            status="done", form_data={"result": "满意"}))
    with session_scope(db_url) as session:
        stats, get = stats_of(session, "P-ADM"), indicators().get
        assert stats.figures(get("reopen_rate"), day()).total.value == 0.5  # T5 only, of two


def test_province_figures_match_the_hand_count(db_url, centre):
    with session_scope(db_url) as session:
        stats, get = stats_of(session, "P-ADM"), indicators().get
        volume = stats.figures(get("ticket_volume"), day())
        assert (volume.total.value, [(r.label, r.value) for r in volume.rows]) == (
            5, [("南京市", 4), ("苏州市", 1)])
        by_channel = stats.figures(get("ticket_volume"), day(), dimension="channel")
        assert [(r.label, r.value) for r in by_channel.by_dimension] == [
            ("电话", 3), ("网站", 1), ("微信", 1)]
        assert stats.figures(get("on_time_rate"), day()).total.value == 4 / 8
        handling = stats.figures(get("step_handling"), day())
        assert values(handling) == {"合计": 260 / 7, "南京市": 90, "苏州市": 20,
                                    "江苏95598中心": 10}
        assert stats.figures(get("repair_arrival"), day()).total.value == 0.5
        assert stats.figures(get("repair_arrival_minutes"), day()).total.value == 45
        assert stats.figures(get("repair_restore"), day()).total.value == 0
        assert stats.figures(get("repair_restore_minutes"), day()).total.value == 210  # T3
        assert stats.figures(get("repeat_faults"), day()).total.value == 1
        assert stats.figures(get("reopen_rate"), day()).total.value == 0.5
        assert values(stats.figures(get("satisfaction"), day())) == {
            "合计": 2 / 3, "南京市": None, "苏州市": 1 / 2, "江苏95598中心": 1}
        assert values(stats.figures(get("overdue_now"), day())) == {
            "合计": 3, "南京市": 3, "苏州市": 0}
        assert stats.figures(get("expiring_now"), day()).total.value == 1
        calls = {key: stats.figures(get(key), day()).total.value for key in (
            "calls_offered", "calls_answered", "answer_rate", "service_level", "calls_abandoned")}
        assert calls == {"calls_offered": 4, "calls_answered": 3, "answer_rate": 0.75,
                         "service_level": 0.5, "calls_abandoned": 1}


def test_a_redispatched_ticket_counts_where_each_step_was_done(db_url, centre):
    with session_scope(db_url) as session:
        stats, get = stats_of(session, "P-ADM"), indicators().get
        county = Unit(centre["320101"])
        assert values(stats.figures(get("returns"), day(), county)) == {"合计": 1, "玄武营销部": 1}
        assert values(stats.figures(get("redispatches"), day())) == {
            "合计": 1, "南京市": 0, "苏州市": 0, "江苏95598中心": 1}
        # The ticket stays the county's; the city's department has its latest step.
        volume = stats.figures(get("ticket_volume"), day(), county)
        assert values(volume) == {"合计": 2, "南京营销部": 1, "玄武营销部": 1}
        city_department = Unit(centre["320101"], centre["A-MKT"])
        assert [n for n, *_ in stats.tickets(get("ticket_volume"), day(), city_department)] == ["T1"]
        assert [name for name, _ in volume.breadcrumb] == ["江苏省", "南京市", "玄武区"]


def test_midnight_splits_the_days(db_url, centre):
    with session_scope(db_url) as session:
        stats, get = stats_of(session, "P-ADM"), indicators().get
        next_day = day(date(2025, 10, 1))
        assert stats.figures(get("ticket_volume"), next_day).total.value == 0
        assert stats.figures(get("step_handling"), next_day).total.value == 40
        assert stats.figures(get("calls_offered"), next_day).total.value == 0
        both = day(DAY, date(2025, 10, 1))
        assert stats.figures(get("step_handling"), both).total.value == 300 / 8


def test_scope_hides_other_units(db_url, centre):
    with session_scope(db_url) as session:
        get = indicators().get
        suzhou = stats_of(session, "B-SUP")
        assert values(suzhou.figures(get("ticket_volume"), day())) == {"合计": 1, "姑苏区": 1}
        assert not suzhou.sees(get("calls_offered"))  # the province centre's telephony
        with pytest.raises(LookupError):
            suzhou.figures(get("ticket_volume"), day(), Unit(centre["3201"]))
        with pytest.raises(LookupError):
            suzhou.tickets(get("ticket_volume"), day(), Unit(centre["320101"], centre["A-MKT"]))
        head = stats_of(session, "A1-HEAD")
        assert head.figures(get("ticket_volume"), day()).total.value == 2
        assert [name for name, _ in head.figures(get("ticket_volume"), day()).breadcrumb] == [
            "玄武区"]


def test_the_bi_views_give_the_same_figures(db_url, centre):
    from sqlalchemy import text

    def one(sql):
        with session_scope(db_url) as session:
            return tuple(float(v) for v in session.execute(text(sql)).one())

    # A case's step that day (a quality appeal's review): not a unit's handling of a ticket.
    with session_scope(db_url) as session:
        department = session.scalar(select(Department).where(Department.code == "CC"))
        case = Case(number="QA-1", kind="quality_appeal", ref_id=1, title="质检申诉",
                    region_id=department.region_id, opened_at=at(9, 30, 9))
        case.steps.append(Step(step_key="review", department=department, attempt=1, form="review",
                               opened_at=at(9, 30, 9), completed_at=at(9, 30, 11),
                               status="done"))
        session.add(case)
    with session_scope(db_url) as session:
        handling = Statistics(session, session.scalar(select(Staff).where(Staff.code == "P-ADM")))
        assert handling.figures(indicators().get("step_handling"), day()).total.value == 260 / 7
    where = "WHERE CAST(day AS VARCHAR(10)) = '2025-09-30'"
    assert one(f"SELECT SUM(tickets) FROM stat_tickets_daily {where}") == (5,)
    assert one(f"SELECT SUM(decided), SUM(on_time) FROM stat_clocks_daily {where}") == (8, 4)
    assert one(f"SELECT SUM(steps), SUM(minutes_total), SUM(redispatches) FROM stat_steps_daily "
               f"{where}") == (7, 260, 1)
    assert one("SELECT SUM(offered), SUM(answered), SUM(answered_within_20s), SUM(abandoned) "
               f"FROM stat_calls_daily {where}") == (4, 3, 2, 1)
