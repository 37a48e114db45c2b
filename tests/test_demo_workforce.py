"""The demo centre's telephony at a fixed moment, on SQLite and PostgreSQL: eight weeks of calls
up to that moment, which the dashboard counts, live readings the wallboard shows, and a staffing
plan forecast from those calls."""

from datetime import timedelta

import pendulum
import pytest
from sqlalchemy import func, select

from models import OutboxMessage, Staff
from models.workforce.config import load_workforce_config
from models.workforce.tables import CallRecord, IndicatorReading, StaffingPlan
from tasks.core.db import session_scope
from tasks.demo.seed import seed_demo
from tasks.demo.workforce import GROUPS, HISTORY_DAYS, demo_history, demo_workforce
from tasks.statistics.aggregations import indicators
from tasks.statistics.figures import Statistics, local_period
from tasks.statistics.live import board
from tasks.tickets.calendar_store import centre_calendar
from tasks.tickets.rule_store import load_rules

TZ = "Asia/Shanghai"
# A Monday morning, at the first peak; its yesterday is a Sunday.
NOW = pendulum.datetime(2026, 12, 7, 10, 20, tz=TZ).in_timezone("UTC")
TODAY, YESTERDAY = NOW.in_timezone(TZ).date(), NOW.in_timezone(TZ).date() - timedelta(days=1)


@pytest.fixture
def centre(db_url):
    with session_scope(db_url) as session:
        seed_demo(session, now=NOW, calendar=centre_calendar(session), rules=load_rules(session),
                  tickets=0)
        counts = demo_workforce(session, now=NOW, config=load_workforce_config(), timezone=TZ)
    return counts


def _stats(session) -> Statistics:
    return Statistics(session, session.scalar(select(Staff).where(Staff.code == "S0001")))


def test_eight_weeks_of_calls_up_to_now_through_the_import(db_url, centre):
    history = demo_history(TODAY)
    with session_scope(db_url) as session:
        first, last, stored = session.execute(select(
            func.min(CallRecord.offered_at), func.max(CallRecord.offered_at), func.count())).one()
        by_group = dict(session.execute(select(CallRecord.group, func.count())
                                        .group_by(CallRecord.group)).all())
    assert (centre["calls"], stored, by_group) == (9086, 9086, {"故障报修": 3329, "咨询查询": 5757})
    assert set(history) == set(GROUPS) == set(by_group)
    # From midnight eight weeks ago to now, never after: today's calls so far are there too.
    assert pendulum.instance(first).in_timezone(TZ).date() == TODAY - timedelta(days=HISTORY_DAYS)
    assert NOW - timedelta(minutes=30) < last <= NOW
    assert sum(int(h.counts[:-1].sum()) for h in history.values()) < stored < sum(
        int(h.counts.sum()) for h in history.values())


def test_the_dashboard_counts_yesterdays_calls(db_url, centre):
    history = demo_history(TODAY)
    with session_scope(db_url) as session:
        stats, get = _stats(session), indicators().get
        day = local_period(YESTERDAY, YESTERDAY, TZ, NOW)
        stored = session.scalar(select(func.count()).select_from(CallRecord).where(
            CallRecord.offered_at >= day.start, CallRecord.offered_at < day.end))
        offered = stats.figures(get("calls_offered"), day, dimension="group")
        figures = {key: stats.figures(get(key), day).total.value
                   for key in ("calls_answered", "answer_rate", "service_level", "calls_abandoned")}
    assert offered.total.value == stored == sum(int(h.counts[-2].sum()) for h in history.values())
    assert (stored, {r.label: r.value for r in offered.by_dimension}) == (
        139, {"故障报修": 55, "咨询查询": 84})
    assert figures == {"calls_answered": 131, "answer_rate": 131 / 139, "service_level": 112 / 139,
                       "calls_abandoned": 8}


def test_the_wallboard_shows_each_groups_live_readings(db_url, centre):
    with session_scope(db_url) as session:
        shown = board(session, _stats(session), load_workforce_config(), NOW + timedelta(minutes=5))
        supervisor_id = session.scalar(select(Staff.id).where(Staff.code == "S0001"))
        readings = session.scalar(select(func.count()).select_from(IndicatorReading))
        alerts = session.scalars(select(OutboxMessage.key)).all()
        # The answer rate read is the share answered of the last 24 hours' calls.
        day = session.execute(select(CallRecord.answered).where(
            CallRecord.group == "故障报修", CallRecord.offered_at > NOW - timedelta(hours=24),
            CallRecord.offered_at <= NOW)).scalars().all()
    groups = {g["group"]: g for g in shown["groups"]}
    assert (centre["live_readings"], readings) == (4, 4)
    fault = groups["故障报修"]
    assert fault["answer_rate"] == {"value": sum(day) / len(day), "level": 1} and len(day) == 63
    assert sum(day) / len(day) == 56 / 63  # below 90 %: yellow, as a real reading would be
    assert fault["queue_length"] == {"value": 0, "level": 0}
    assert groups["咨询查询"]["answer_rate"] == {"value": 101 / 106, "level": 0}
    assert groups["咨询查询"]["queue_length"] == {"value": 0, "level": 0}
    # The yellow reading alerted the supervisor (SMS and e-mail), as `gridline calls live` does.
    assert sorted(alerts) == [f"alert:answer_rate:故障报修:{NOW.isoformat()}:L1:{supervisor_id}:{c}"
                              for c in ("email", "sms")]
    # An hour later, with no new reading, the wall shows them as missing again.
    with session_scope(db_url) as session:
        later = board(session, _stats(session), load_workforce_config(), NOW + timedelta(hours=1))
    assert {g["group"]: g["answer_rate"]["value"] for g in later["groups"]}["故障报修"] is None


def test_the_staffing_plan_is_forecast_from_the_calls(db_url, centre):
    with session_scope(db_url) as session:
        plan = {group: (calls, aht) for group, calls, aht in session.execute(
            select(StaffingPlan.group, func.sum(StaffingPlan.calls), func.avg(StaffingPlan.aht_s))
            .group_by(StaffingPlan.group))}
        handle = dict(session.execute(
            select(CallRecord.group, func.avg(CallRecord.talk_s + CallRecord.wrap_s))
            .where(CallRecord.answered.is_(True), CallRecord.offered_at >= NOW - timedelta(days=28))
            .group_by(CallRecord.group)).all())
    assert centre["plan_intervals"] == 2 * 7 * 48 and centre["shifts"] > 0
    for group, (daily, aht) in GROUPS.items():
        calls, planned_aht = plan[group]
        assert planned_aht == pytest.approx(handle[group])  # the calls' own handle time
        assert abs(planned_aht - aht) < 0.05 * aht
        assert 0.7 * 7 * daily < calls < 1.1 * 7 * daily  # a week of a little less than Wednesdays
