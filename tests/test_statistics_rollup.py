"""The daily rollup: figures read from rolled days are the live figures, on every indicator,
breakdown and unit of the hand-counted centre; a write to a rolled day's ticket makes that day
live again at once; a clock open when its day was rolled counts once it is due. SQLite and
PostgreSQL."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from models.statistics.rollup import RollupDay, RollupRow
from models.tickets.ticket import Step, Ticket, TicketClock
from tasks.core.db import session_scope
from tasks.statistics.aggregations import indicators
from tasks.statistics.figures import Unit, local_period
from tasks.statistics.rollup import days_to_roll, roll_day, rollable, split
from tests.statistics_centre import DAY, NOW, at, build, unit_ids
from tests.test_statistics import TZ, stats_of

WEEK = (DAY, DAY + timedelta(days=6))


@pytest.fixture
def centre(db_url):
    with session_scope(db_url) as session:
        return unit_ids(build(session))


def snapshot(session, centre, first: date, last: date, now=NOW) -> dict:
    """Every figure the dashboard can show for the period: each indicator, breakdown and unit."""
    stats, period = stats_of(session, "P-ADM"), local_period(first, last, TZ, now)
    units = [Unit(centre["32"]), Unit(centre["3201"]), Unit(centre["320101"]),
             Unit(centre["320101"], centre["A1-MKT"]), Unit(centre["3201"], 0)]
    seen = {}
    for indicator in indicators().indicators:
        for dimension in [None, *indicator.dimensions]:
            for unit in units:
                found = stats.figures(indicator, period, unit, dimension)
                seen[indicator.key, dimension, unit.code] = (
                    [(r.label, r.num, r.den) for r in [found.total, *found.rows]],
                    [(r.label, r.num, r.den) for r in found.by_dimension])
    return seen


def roll(db_url, now=NOW) -> list[date]:
    with session_scope(db_url) as session:
        days = days_to_roll(session, now=now, timezone=TZ)
    for day in days:
        with session_scope(db_url) as session:
            roll_day(session, day, now=now, timezone=TZ)
    return days


def fresh_days(db_url, first: date, last: date) -> list[date]:
    with session_scope(db_url) as session:
        return split(session, local_period(first, last, TZ, NOW), timezone=TZ)[0]


def test_rolled_days_give_the_live_figures(db_url, centre):
    with session_scope(db_url) as session:
        live = snapshot(session, centre, *WEEK)
    days = roll(db_url)
    # From the first ticket's day (the earlier fault of the repeat, 09-29) to the day before NOW
    # (2025-10-10): eleven closed days.
    assert days == [date(2025, 9, 29) + timedelta(days=n) for n in range(11)]
    assert fresh_days(db_url, *WEEK) == [DAY + timedelta(days=n) for n in range(7)]
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(RollupRow)) > 0
        assert snapshot(session, centre, *WEEK) == live
    assert roll(db_url) == []  # nothing changed: nothing to roll again


def test_a_write_to_a_rolled_day_is_seen_at_once(db_url, centre):
    roll(db_url)
    with session_scope(db_url) as session:
        # T5's customer was satisfied; now the callback is recorded as unsatisfied (reopened).
        callback = session.scalars(select(Step).where(
            Step.step_key == "callback", Step.form_data["result"].as_string() == "满意")).first()
        callback.form_data = {"result": "不满意"}
    assert DAY not in fresh_days(db_url, *WEEK)
    with session_scope(db_url) as session:
        stale = snapshot(session, centre, *WEEK)
        get = indicators().get
        stats = stats_of(session, "P-ADM")
        assert stats.figures(get("reopen_rate"), local_period(DAY, DAY, TZ, NOW)).total.value == 1
    with session_scope(db_url) as session:
        session.execute(update(RollupDay).values(stale=True))  # every day live: the reference
    with session_scope(db_url) as session:
        assert snapshot(session, centre, *WEEK) == stale
    roll(db_url)
    assert fresh_days(db_url, *WEEK) == [DAY + timedelta(days=n) for n in range(7)]
    with session_scope(db_url) as session:
        assert snapshot(session, centre, *WEEK) == stale


def test_a_clock_open_at_the_roll_counts_once_due(db_url, centre):
    with session_scope(db_url) as session:
        ticket = session.scalars(select(Ticket).order_by(Ticket.id)).first()
        session.add(TicketClock(ticket=ticket, clock="reply", label="处理答复",
                                due_at=at(10, 20, 9), warn_minutes=60))
    before_due, after_due = at(10, 15, 9), at(10, 25, 9)
    with session_scope(db_url) as session:
        live = {now: snapshot(session, centre, *WEEK, now=now) for now in (before_due, after_due)}
    assert live[before_due] != live[after_due]  # the open clock is judged once it is due
    roll(db_url, now=at(10, 12, 9))
    with session_scope(db_url) as session:
        assert session.get(RollupDay, DAY).stale is False
        for now in (before_due, after_due):
            assert snapshot(session, centre, *WEEK, now=now) == live[now]


def test_only_period_indicators_are_rolled(db_url, centre):
    roll(db_url)
    with session_scope(db_url) as session:
        rolled = set(session.scalars(select(RollupRow.indicator).distinct()))
    assert "overdue_now" not in rolled and "expiring_now" not in rolled
    # Every other indicator has rows; the centre has no surveys, so their figure has none.
    assert {i.key for i in indicators().indicators if rollable(i)} - rolled == {
        "survey_satisfaction"}


@pytest.mark.parametrize("empty_db_url", ["sqlite", "postgresql"], indirect=True)
def test_the_hourly_flow_rolls_the_oldest_days_first(db_url, centre, prefect_harness):
    from flows.statistics_rollup import statistics_rollup

    first = statistics_rollup(limit=3)
    assert first["days"] == ["2025-09-29", "2025-09-30", "2025-10-01"] and first["rows"] > 0
    assert fresh_days(db_url, DAY, DAY) == [DAY]
    assert statistics_rollup(limit=1)["days"] == ["2025-10-02"]  # the next one not rolled


def test_calls_imported_for_a_rolled_day_count_at_once(db_url, centre):
    from tasks.workforce.calls import import_calls

    roll(db_url)
    offered = indicators().get("calls_offered")
    with session_scope(db_url) as session:
        report = import_calls(session, iter([(2, {
            "call_id": "late-1", "offered_at": "2025-09-30 11:00:00", "group": "居民",
            "answered": "是", "wait_s": "5"})]), TZ)
        assert report.added == 1
    assert DAY not in fresh_days(db_url, *WEEK)
    with session_scope(db_url) as session:
        figure = stats_of(session, "P-ADM").figures(offered, local_period(DAY, DAY, TZ, NOW))
        assert figure.total.value == 5  # the hand count's 4 calls, and the late one


def test_a_new_version_of_the_facts_rolls_every_day_again(db_url, centre, monkeypatch):
    import tasks.statistics.rollup as rollup

    roll(db_url)
    monkeypatch.setattr(rollup, "FACTS_REVISION", rollup.FACTS_REVISION + 1)
    assert fresh_days(db_url, *WEEK) == []  # counted by the old queries: not read
    assert len(roll(db_url)) == 11


def test_a_ticket_moved_to_another_day_leaves_both_days_stale(db_url, centre):
    roll(db_url)
    with session_scope(db_url) as session:
        ticket = session.scalars(select(Ticket).where(Ticket.received_at >= at(9, 30, 0))
                                 .order_by(Ticket.id)).first()
        ticket.received_at = at(10, 3, 9)
    assert fresh_days(db_url, *WEEK) == [DAY + timedelta(days=n) for n in (1, 2, 4, 5, 6)]


def test_a_department_that_changes_kind_leaves_every_day_stale(db_url, centre):
    from models.core.enums import DepartmentKind
    from models.org.organisation import Department

    roll(db_url)
    with session_scope(db_url) as session:
        session.get(Department, centre["A-MKT"]).kind = DepartmentKind.service_centre
    assert fresh_days(db_url, *WEEK) == []
