"""The outbox against a real SMTP server (aiosmtpd) and a real HTTP SMS platform on loopback."""

from datetime import datetime, timedelta

import pendulum
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from gridline.local_postgres import free_port
from gridline.sinks import Sinks
from models.messaging.outbox import (
    DeliveryPolicy,
    MessageChannel,
    OutboxMessage,
    OutboxStatus,
    SmsConfig,
    SmtpConfig,
    delivery_ref,
)
from tasks.core.db import session_scope
from tasks.messaging.delivery import claim_due, deliver_due
from tasks.messaging.gateways import gateways_for
from tasks.messaging.outbox import enqueue
from tests.cli import run_cli
from tests.mail import read_mail
from tests.sms_platform import Platform

NOON = pendulum.parse("2026-11-24T12:00:00+08:00")
CONTEXT = {"ticket_no": "20261124000001", "ticket_type": "投诉", "content": "抄表员态度恶劣",
           "deadline": pendulum.parse("2026-11-30T15:00:00+08:00"), "customer_phone": "13812348000",
           "address": "南京市玄武区中山路1号", "time_left": "3小时", "overdue_by": "2天",
           "department": "玄武区供电服务中心", "responsible": "李强"}
POLICY = DeliveryPolicy(max_attempts=3, backoff_base_seconds=60, backoff_cap_seconds=600)


@pytest.fixture
def platform():
    server = Platform()
    yield server
    server.stop()


@pytest.fixture
def mail(tmp_path):
    port = free_port()
    sinks = Sinks(tmp_path / "sinks", port, free_port()).start()
    yield sinks, port
    sinks.stop()


def deliver(gateways, at: datetime, policy=POLICY, **options):
    return deliver_due(gateways=gateways, policy=policy, timezone="Asia/Shanghai",
                       clock=lambda: at, **options)


def queue(url, key="step:1:overdue:sms", channel="sms", recipient="13900001111", template="overdue",
          now=NOON, **extra):
    with session_scope(url) as session:
        return enqueue(session, key=key, channel=channel, recipient=recipient, template=template,
                       context=CONTEXT, now=now, policy=POLICY, timezone="Asia/Shanghai", **extra).id


def row(url, message_id) -> OutboxMessage:
    with session_scope(url) as session:
        return session.get(OutboxMessage, message_id)


def test_sms_arrives_with_seed_000_text_and_is_marked_sent(db_url, platform, mail):
    gateways = gateways_for(SmsConfig(url=platform.url), SmtpConfig(port=mail[1]))
    message_id = queue(db_url)
    assert deliver(gateways, NOON) == {"sent": 1}
    assert platform.received == [{
        "to": "13900001111", "ref": delivery_ref("step:1:overdue:sms"),
        "text": "【工单已超期】工单号为20261124000001，工单内容：抄表员态度恶劣，"
                "已于2026-11-30 15:00超时（已超期2天），请尽快处理。"}]
    assert row(db_url, message_id).status == OutboxStatus.sent
    assert deliver(gateways, NOON + timedelta(hours=1)) == {}  # sent once, never again


def test_email_has_subject_text_and_html_parts(db_url, platform, mail):
    sinks, port = mail
    gateways = gateways_for(SmsConfig(url=platform.url), SmtpConfig(port=port))
    queue(db_url, key="step:1:entry:email", channel="email", recipient="xw@example.cn",
          template="dispatch_notice")
    assert deliver(gateways, NOON) == {"sent": 1}
    [received] = read_mail(sinks.mail_dir)
    assert received["Subject"] == "工单派发：20261124000001（投诉）"
    # The idempotency key, the same for every copy: a receiver that dedupes drops a resend.
    assert received["Message-ID"] == f"<{delivery_ref('step:1:entry:email')}@gridline.invalid>"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert "138****8000" in text and "13812348000" not in text  # staff see a masked phone
    assert "请于2026-11-30 15:00前处理" in text and "<p>" in html and "抄表员态度恶劣" in html


def test_a_round_sends_over_one_http_pool_and_one_smtp_connection(db_url, platform):
    peers = []

    class CountingSink:
        async def handle_DATA(self, server, session, envelope):
            peers.append(session.peer)
            return "250 Message accepted"

    sink = Controller(CountingSink(), hostname="127.0.0.1", port=free_port())
    sink.start()
    try:
        gateways = gateways_for(SmsConfig(url=platform.url), SmtpConfig(port=sink.port))
        for i in range(12):
            queue(db_url, key=f"sms:{i}")
        for i in range(3):
            queue(db_url, key=f"mail:{i}", channel="email", recipient=f"u{i}@example.cn",
                  template="escalation")
        assert deliver(gateways, NOON, concurrency=4) == {"sent": 15}
    finally:
        sink.stop()
    assert len(platform.received) == 12 and len(platform.connections) == 4  # not one per SMS
    assert len(peers) == 3 and len(set(peers)) == 1


def test_same_reminder_queued_twice_is_one_row_and_one_message(db_url, platform, mail):
    gateways = gateways_for(SmsConfig(url=platform.url), SmtpConfig(port=mail[1]))
    first, second = queue(db_url), queue(db_url)
    assert first == second
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    deliver(gateways, NOON)
    assert len(platform.received) == 1


def test_smtp_down_then_up_delivers_everything_once(db_url, platform, tmp_path):
    port = free_port()
    gateways = gateways_for(SmsConfig(url=platform.url), SmtpConfig(port=port, timeout_seconds=3))
    ids = [queue(db_url, key=f"mail:{i}", channel="email", recipient=f"u{i}@example.cn",
                 template="escalation") for i in range(3)]
    assert deliver(gateways, NOON) == {"failed": 3}  # nobody listening
    failed = row(db_url, ids[0])
    assert failed.status == OutboxStatus.failed and "SMTP" in failed.last_error
    assert failed.next_attempt_at == NOON + timedelta(seconds=60)
    assert deliver(gateways, NOON + timedelta(seconds=30)) == {}  # backoff respected
    sinks = Sinks(tmp_path / "late", port, free_port()).start()
    try:
        assert deliver(gateways, NOON + timedelta(seconds=61)) == {"sent": 3}
        assert deliver(gateways, NOON + timedelta(hours=2)) == {}
        assert sorted(m["To"] for m in read_mail(sinks.mail_dir)) == [
            "u0@example.cn", "u1@example.cn", "u2@example.cn"]
    finally:
        sinks.stop()


@pytest.mark.parametrize("answer, reason", [("500", "HTTP 500"), ("garbage", "无法解析"),
                                            ("refuse", "未接受")])
def test_gateway_errors_are_retried_with_backoff_then_dead_with_the_reason(
        db_url, platform, mail, answer, reason):
    platform.answer = answer
    gateways = gateways_for(SmsConfig(url=platform.url), SmtpConfig(port=mail[1]))
    message_id = queue(db_url)
    at = NOON
    for attempt in (1, 2, 3):
        assert deliver(gateways, at) == {"failed": 1}
        message = row(db_url, message_id)
        assert message.attempts == attempt and reason in message.last_error
        at = message.next_attempt_at
    assert message.status == OutboxStatus.dead
    assert len(platform.received) == 3
    assert deliver(gateways, at + timedelta(days=1)) == {}


def test_crash_between_send_and_mark_sends_again_after_the_lease(db_url, platform, mail):
    gateways = gateways_for(SmsConfig(url=platform.url), SmtpConfig(port=mail[1]))
    message_id = queue(db_url)
    with session_scope(db_url) as session:  # a worker claims it, and dies before sending
        assert [m.id for m in claim_due(session, now=NOON, policy=POLICY, timezone="Asia/Shanghai")] == [message_id]
    assert deliver(gateways, NOON + timedelta(seconds=60)) == {}  # its lease still runs
    assert deliver(gateways, NOON + timedelta(seconds=POLICY.lease_seconds + 1)) == {"sent": 1}
    assert row(db_url, message_id).status == OutboxStatus.sent
    assert len(platform.received) == 1


def test_customer_messages_wait_for_the_end_of_quiet_hours_unless_urgent(db_url, platform, mail):
    gateways = gateways_for(SmsConfig(url=platform.url), SmtpConfig(port=mail[1]))
    night = pendulum.parse("2026-11-24T23:10:00+08:00")
    calm = queue(db_url, key="ack:1", template="customer_ack", now=night, to_customer=True)
    urgent = queue(db_url, key="ack:2", template="customer_ack", now=night, to_customer=True,
                   urgent=True)
    assert row(db_url, calm).next_attempt_at == pendulum.parse("2026-11-25T08:00:00+08:00")
    assert deliver(gateways, night) == {"sent": 1}
    assert row(db_url, urgent).status == OutboxStatus.sent
    assert deliver(gateways, pendulum.parse("2026-11-25T08:00:00+08:00")) == {"sent": 1}


def test_customer_templates_name_no_staff(db_url):
    with session_scope(db_url) as session:
        for template in ("customer_ack", "closure_notice"):
            message = enqueue(session, key=template, channel="sms", recipient="13812348000",
                              template=template, context=CONTEXT, now=NOON, to_customer=True,
                              policy=POLICY, timezone="Asia/Shanghai")
            assert CONTEXT["responsible"] not in message.body_text
            assert CONTEXT["department"] not in message.body_text


def test_a_missing_template_variable_fails_at_enqueue_and_queues_nothing(db_url):
    with pytest.raises(Exception, match="ticket_no"):
        with session_scope(db_url) as session:
            enqueue(session, key="k", channel="sms", recipient="13812348000", template="overdue",
                    context={}, now=NOON, policy=POLICY, timezone="Asia/Shanghai")
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_cli_lists_and_retries_a_dead_message(db_url, platform, mail, capsys, monkeypatch):
    platform.answer = "500"
    gateways = gateways_for(SmsConfig(url=platform.url), SmtpConfig(port=mail[1]))
    message_id = queue(db_url)
    at = NOON
    for _ in range(3):
        deliver(gateways, at)
        at = row(db_url, message_id).next_attempt_at
    listed = run_cli(capsys, "outbox", "list", "--status", "dead", "--json").json()
    assert [m["id"] for m in listed] == [message_id] and "HTTP 500" in listed[0]["last_error"]
    assert run_cli(capsys, "outbox", "retry", str(message_id)).code == 0
    again = run_cli(capsys, "outbox", "retry", str(message_id))
    assert again.code == 2 and "queued" in again.err
    platform.answer = "ok"
    monkeypatch.setenv("GRIDLINE_SMS__URL", platform.url)
    delivered = run_cli(capsys, "outbox", "deliver")
    assert delivered.code == 0 and "sent 1" in delivered.out
    assert run_cli(capsys, "outbox", "list", "--status", "sent", "--json").json()[0]["id"] == message_id


def test_cli_refuses_an_unknown_status(db_url, capsys):
    result = run_cli(capsys, "outbox", "list", "--status", "lost")
    assert result.code == 2 and "field status" in result.err


def test_every_template_renders_in_chinese_on_both_channels():
    from tasks.messaging.templates import load_templates, render

    env = load_templates("Asia/Shanghai")
    names = {n.split("/")[1].removesuffix(".txt") for n in env.list_templates(["txt"])}
    assert names == {"dispatch_notice", "customer_ack", "about_to_expire", "overdue", "escalation",
                     "callback_notice", "closure_notice", "known_fault", "reopen_escalation",
                     "clock_skew", "handover_list", "workforce_alert", "chase",
                     "statistics_report", "password_setup", "survey", "survey_reask",
                     "outage_notice", "outage_change", "outage_cancel",
                     "linked_reply", "knowledge_expiring", "knowledge_expired",
                     "indicator_appeal_filed", "indicator_appeal_decided",
                     "indicator_appeal_overdue"}
    # clock_skew speaks of no ticket; a chase names who chases; a linked reply its master ticket
    context = CONTEXT | {"skew": "5分钟", "database_time": NOON, "name": "田轩", "advice": "请今日回复",
                         "valid_hours": "48", "master_no": "20261124000002",
                         "reply": "经核实，系线路检修所致，已恢复供电。"}
    # the workforce's, the reports' and the set-up links' speak of no ticket: tests/test_templates.py;
    # the outage, knowledge and indicator appeal notices neither: tests/test_outages.py,
    # test_knowledge.py, test_quality.py
    for name in names - {"workforce_alert", "handover_list", "statistics_report", "password_setup",
                         "outage_notice", "outage_change", "outage_cancel", "knowledge_expiring",
                         "knowledge_expired", "indicator_appeal_filed", "indicator_appeal_decided",
                         "indicator_appeal_overdue"}:
        for channel in MessageChannel:
            subject, text, html = render(env, channel, name, context)
            assert CONTEXT["ticket_no"] in text or name == "clock_skew"
            assert channel == MessageChannel.sms or (subject and "<html" in html)


def test_a_broken_template_stops_loading_and_names_the_file(tmp_path):
    from tasks.messaging.templates import TemplateProblem, load_templates

    (tmp_path / "sms").mkdir()
    (tmp_path / "sms" / "overdue.txt").write_text("工单{{ ticket_no }", encoding="utf-8")
    with pytest.raises(TemplateProblem, match="sms/overdue.txt"):
        load_templates("Asia/Shanghai", tmp_path)
