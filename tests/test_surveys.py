"""Satisfaction by sampling: the seeded draw, quiet hours, the repeat rule, the SMS through the
real loopback platform, signed replies to the portal's uplink on a real server, the follow-up an
unsatisfied answer opens, and the pages within scope with their Excel. SQLite and PostgreSQL."""

import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from gridline.web.app import create_app
from models.core.errors import InputError
from models.messaging.outbox import OutboxMessage
from models.org.organisation import Staff
from models.surveys.answers import Answer, ReplyOutcome, SurveyStatus
from models.surveys.campaigns import Stratum, draw_value, load_campaigns
from models.surveys.tables import SurveyReply
from models.tickets.ticket import Event, Ticket
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.statistics.aggregations import indicators
from tasks.statistics.figures import Statistics, local_period
from tests.portal import login, portal_centre, serve
from tests.sms_platform import Platform
from tests.surveys import (
    SECRET,
    at,
    campaign,
    closed_ticket,
    deliver,
    survey_of,
    survey_round,
    uplink,
)

SURVEY_ASK = "回复1满意 2基本满意 3不满意"


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDLINE_SURVEYS__UPLINK_SECRET", SECRET)
    return portal_centre(db_url, tmp_path, monkeypatch)


@pytest.fixture
def clock():
    return {"now": at(12)}


@pytest.fixture
def site(centre, clock):
    """The portal (and its API) on loopback, reading the test's clock."""
    with serve(create_app(get_settings(), clock=lambda: clock["now"])) as base_url:
        yield base_url


@pytest.fixture
def platform():
    server = Platform()
    yield server
    server.stop()


def count(url, model, *where) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def sent_survey(url, platform, *, phone="13812345678", region="320102", closed=None) -> str:
    """A complaint closed at 09:00, its survey drawn at 12:00 and delivered at once."""
    number = closed_ticket(url, closed or at(9), phone=phone, region=region)
    survey_round(url, (closed or at(9)) + timedelta(hours=3))
    assert deliver(platform, (closed or at(9)) + timedelta(hours=3)) == {"sent": 1}
    return number


def test_the_stored_seed_draws_the_same_sample_and_a_rerun_queues_nothing(centre):
    numbers = [closed_ticket(centre, at(9), phone=f"138123450{i:02d}", type="consultation")
               for i in range(12)]
    complaint = closed_ticket(centre, at(9), phone="13912340000")
    half = campaign(rate=0.5, strata=[Stratum(types=["complaint"], rate=1.0)])
    assert survey_round(centre, at(12), half) == {"queued": 9}
    expected = {n for n in numbers if draw_value(7, "t", n) < 0.5} | {complaint}
    drawn = {n for n in numbers + [complaint] if survey_of(centre, n) is not None}
    assert drawn == expected and len(drawn) == 9
    for number in drawn:  # the stored seed gives the stored value
        survey = survey_of(centre, number)
        assert (survey.seed, survey.draw) == (7, draw_value(7, "t", number))
    assert survey_round(centre, at(13), half) == {}
    assert count(centre, OutboxMessage, OutboxMessage.template == "survey") == 9


def test_a_survey_due_in_quiet_hours_waits_until_they_end(centre, platform):
    number = closed_ticket(centre, at(19, 30))
    assert survey_round(centre, at(21, 40)) == {"queued": 1}
    message = survey_of(centre, number).message
    assert message.next_attempt_at == at(8, days=1)
    assert deliver(platform, at(21, 40)) == {} and platform.received == []
    assert deliver(platform, at(8, days=1)) == {"sent": 1}
    assert [m["to"] for m in platform.received] == ["13812345678"]
    assert SURVEY_ASK in platform.received[0]["text"] and number in platform.received[0]["text"]


def test_a_failing_gateway_keeps_the_survey_queued_and_a_rerun_adds_nothing(centre, platform):
    number = closed_ticket(centre, at(9))
    assert survey_round(centre, at(12)) == {"queued": 1}
    platform.answer = "500"
    assert deliver(platform, at(12)) == {"failed": 1}
    assert survey_round(centre, at(12, 10)) == {}
    platform.answer = "ok"
    assert deliver(platform, survey_of(centre, number).message.next_attempt_at) == {"sent": 1}
    assert count(centre, OutboxMessage, OutboxMessage.template == "survey") == 1
    assert survey_of(centre, number).status == SurveyStatus.awaiting


def test_a_dead_survey_sms_is_undelivered_not_no_answer(centre, platform):
    number = closed_ticket(centre, at(9))
    survey_round(centre, at(12))
    platform.answer = "refuse"
    assert deliver(platform, at(12)) == {"failed": 1}
    assert deliver(platform, survey_of(centre, number).message.next_attempt_at) == {"failed": 1}
    assert survey_round(centre, at(12, days=3)) == {"undelivered": 1}


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
def test_the_scheduled_flow_draws_and_closes_on_a_real_prefect_server(
        centre, prefect_harness, tmp_path, monkeypatch):
    from flows.surveys import survey_round as scheduled_round

    campaigns = tmp_path / "surveys.yaml"
    campaigns.write_text("campaigns:\n  - {key: t, name: 测试, rate: 1.0, seed: 7}\n",
                         encoding="utf-8")
    monkeypatch.setenv("GRIDLINE_SURVEYS__CAMPAIGNS_FILE", str(campaigns))
    number = closed_ticket(centre, at(9))
    assert scheduled_round(at(12).isoformat())["queued"] == 1
    assert scheduled_round(at(12, 10).isoformat()) == {"at": at(12, 10).isoformat()}
    assert survey_of(centre, number).message.template == "survey"


def test_nobody_is_surveyed_twice_within_the_repeat_days(centre):
    first = closed_ticket(centre, at(9))
    second = closed_ticket(centre, at(9, 30))
    assert survey_round(centre, at(12)) == {"queued": 1, "skipped": 1}
    assert survey_of(centre, first).status == SurveyStatus.awaiting
    assert survey_of(centre, second).status == SurveyStatus.skipped
    assert count(centre, OutboxMessage, OutboxMessage.template == "survey") == 1
    later = closed_ticket(centre, at(9, days=31))
    assert survey_round(centre, at(12, days=31)) == {"queued": 1}
    assert survey_of(centre, later).status == SurveyStatus.awaiting


def test_replies_are_matched_by_number_and_time_and_each_kept_distinctly(
        centre, site, clock, platform):
    number = sent_survey(centre, platform)
    clock["now"] = at(13)
    outcome = lambda body: uplink(site, clock["now"], body).json()["outcome"]  # noqa: E731
    assert outcome({"from": "13700000000", "text": "1"}) == "unknown"
    assert outcome({"from": "13812345678", "text": "好的谢谢"}) == "garbage"
    assert survey_of(centre, number).status == SurveyStatus.awaiting
    assert outcome({"from": "+86 138 1234 5678", "text": "１", "id": "m-1"}) == "counted"
    assert outcome({"from": "13812345678", "text": "1", "id": "m-1"}) == "counted"  # a retry
    assert outcome({"from": "13812345678", "text": "3"}) == "repeat"
    survey = survey_of(centre, number)
    assert (survey.status, survey.answer, survey.follow_up_id) == (
        SurveyStatus.answered, Answer.satisfied, None)
    with session_scope(centre) as session:
        kept = [r.outcome for r in session.scalars(select(SurveyReply).order_by(SurveyReply.id))]
    assert kept == [ReplyOutcome.unknown, ReplyOutcome.garbage, ReplyOutcome.counted,
                    ReplyOutcome.repeat]
    late = sent_survey(centre, platform, phone="13912345678")
    clock["now"] = at(12, 30, days=2)  # 48 h after 12:00 has passed
    assert outcome({"from": "13912345678", "text": "1"}) == "late"
    assert survey_of(centre, late).answer is None


def test_an_unreadable_reply_is_asked_again_once_and_a_later_answer_still_counts(
        centre, site, clock, platform):
    number = sent_survey(centre, platform)
    clock["now"] = at(13)
    outcome = lambda text: uplink(  # noqa: E731
        site, clock["now"], {"from": "13812345678", "text": text}).json()["outcome"]
    assert outcome("好的谢谢") == "garbage"
    assert outcome("嗯嗯") == "invalid"
    assert outcome("？") == "invalid"
    with session_scope(centre) as session:
        asked = session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "survey_reask")).all()
        assert [(m.recipient, m.key) for m in asked] == [
            ("13812345678", f"survey:{asked[0].ticket_id}:reask")]
        assert "1满意 2基本满意 3不满意" in asked[0].body_text
    assert survey_of(centre, number).status == SurveyStatus.awaiting
    assert outcome("2") == "counted"
    assert survey_of(centre, number).answer == Answer.fairly


def test_an_unsigned_or_badly_signed_uplink_is_refused_and_records_nothing(centre, site, clock):
    assert uplink(site, clock["now"], {"from": "13812345678", "text": "1"},
                  secret="wrong").status_code == 401
    stale = uplink(site, clock["now"] - timedelta(hours=1), {"from": "13812345678", "text": "1"})
    assert stale.status_code == 401
    assert count(centre, SurveyReply) == 0


def test_an_unsatisfied_answer_opens_exactly_one_follow_up(centre, site, clock, platform):
    number = sent_survey(centre, platform)
    tickets = count(centre, Ticket)
    clock["now"] = at(14)
    first = uplink(site, clock["now"], {"from": "13812345678", "text": "3", "id": "m-9"}).json()
    again = uplink(site, clock["now"], {"from": "13812345678", "text": "3", "id": "m-9"}).json()
    second = uplink(site, clock["now"], {"from": "13812345678", "text": "不满意"}).json()
    assert (first["outcome"], again["outcome"], second["outcome"]) == (
        "counted", "counted", "repeat")
    assert first["follow_up"] == again["follow_up"] == second["follow_up"] is not None
    assert count(centre, Ticket) == tickets + 1
    with session_scope(centre) as session:
        follow = session.scalar(select(Ticket).where(Ticket.number == first["follow_up"]))
        assert (follow.type.value, follow.subtype, follow.caller_phone) == (
            "complaint", "满意度复核", "13812345678")
        assert number in follow.content
        linked = session.scalars(select(Event.message).join(Ticket)
                                 .where(Ticket.number == number,
                                        Event.kind == "survey_follow_up")).all()
    assert linked == [f"客户回复不满意，已开立跟进工单 {first['follow_up']}"]


def test_no_reply_within_validity_is_no_answer_never_satisfied(centre, platform):
    quiet = sent_survey(centre, platform)
    assert survey_round(centre, at(11, 59, days=2)) == {}
    assert survey_round(centre, at(12, days=2)) == {"no_answer": 1}
    survey = survey_of(centre, quiet)
    assert (survey.status, survey.answer) == (SurveyStatus.no_answer, None)


def test_the_page_shows_the_rate_within_scope_and_the_excel_equals_it(
        centre, site, clock, platform):
    sent_survey(centre, platform, phone="13812345678", region="320102")  # 南京 玄武区
    sent_survey(centre, platform, phone="13912345678", region="320102")
    sent_survey(centre, platform, phone="13712345678", region="320508")  # 苏州 姑苏区
    clock["now"] = at(13)
    for phone, text in [("13812345678", "2"), ("13712345678", "3")]:
        assert uplink(site, clock["now"], {"from": phone, "text": text}).status_code == 200
    clock["now"] = at(13, days=3)
    survey_round(centre, clock["now"])  # the second 玄武 survey lapses: 无应答
    province = login(site, "S0100")
    page = province.get("/surveys?month=2027-03")
    assert page.status_code == 200 and 'href="/surveys">满意度</a>' in page.text
    assert table(page.text, "figures") == [
        ["2027-03", "姑苏区", "投诉", "1", "1", "0", "0", "1", "0", "0.0%"],
        ["2027-03", "玄武区", "投诉", "2", "1", "0", "1", "0", "1", "100.0%"],
        ["2027-03", "合计", "全部", "3", "2", "0", "1", "1", "1", "50.0%"]]
    download = province.get("/surveys/export.xlsx?month=2027-03")
    sheet = load_workbook(io.BytesIO(download.content)).active
    assert [[str(v) for v in row] for row in sheet.iter_rows(min_row=2, values_only=True)] \
        == table(page.text, "figures")
    assert [c.value for c in sheet[1]] == ["月份", "单位", "类型", "调查数", "已回复", "满意",
                                           "基本满意", "不满意", "无应答", "满意率"]
    suzhou = login(site, "SZ-A").get("/surveys?month=2027-03").text
    assert table(suzhou, "figures") == [
        ["2027-03", "姑苏区", "投诉", "1", "1", "0", "0", "1", "0", "0.0%"],
        ["2027-03", "合计", "全部", "1", "1", "0", "0", "1", "0", "0.0%"]]
    assert [row[2] for row in table(suzhou, "surveys")] == ["姑苏区"]
    assert [row[5] for row in table(page.text, "surveys")].count("无应答") == 1
    with session_scope(centre) as session:  # the dashboard's indicator: the same definition
        stats = Statistics(session, session.scalar(select(Staff).where(Staff.code == "S0100")))
        month = local_period(date(2027, 3, 1), date(2027, 3, 31), "Asia/Shanghai", clock["now"])
        assert stats.figures(indicators().get("survey_satisfaction"), month).total.value == 0.5


def test_a_bad_campaign_file_names_the_file_line_and_field(tmp_path):
    bad = tmp_path / "surveys.yaml"
    bad.write_text("campaigns:\n  - key: m\n    name: 回访\n    rate: 1.5\n    seed: 1\n",
                   encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_campaigns(bad)
    assert raised.value.field == "surveys.yaml:4: campaigns.0.rate"
    assert [c.key for c in load_campaigns()] == ["monthly"]


def table(html: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table_id}"[^>]*>(.*?)</table>', html, re.S).group(1)
    return [[re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S) if "<td" in row]

