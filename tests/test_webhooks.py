"""Webhooks out through the outbox: a receiver on loopback down for an hour, then up, gets every
event (ticket.created, step.opened, reminder.overdue, step.done, ticket.closed) exactly once,
signed with its secret; the delivery log shows each attempt. SQLite and PostgreSQL."""

import json
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from flows.intake import open_ticket
from flows.lifecycle import lifecycles
from flows.steps import complete_step
from gridline.local_postgres import free_port
from models.audit.assessment import AuditPolicy
from models.core.enums import TicketType
from models.integrations.tables import EVENTS, signature
from models.messaging.outbox import (
    DeliveryPolicy,
    MessageChannel,
    OutboxMessage,
    OutboxStatus,
    SmsConfig,
    SmtpConfig,
    delivery_ref,
)
from models.org.organisation import Department, Staff
from models.tickets.lifecycle import StepKind
from tasks.audit.chase import audit_due
from tasks.core.db import session_scope
from tasks.integrations.webhooks import add_subscription, deliveries
from tasks.messaging.delivery import deliver_due
from tasks.messaging.gateways import gateways_for
from tasks.tickets.lifecycle_store import open_step, record_system_step
from tasks.tickets.store import get_ticket
from tests.api import a_ticket
from tests.portal import now_utc, portal_centre
from tests.webhook_receiver import webhook_receiver

TZ = "Asia/Shanghai"


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    return portal_centre(db_url, tmp_path, monkeypatch)


def one_ticket_through_its_events(url: str, now) -> str:
    """A complaint received, its hand-off opened, its deadlines overdue, the hand-off done, the
    ticket closed: each by the writer the lifecycle calls."""
    with session_scope(url) as session:
        ticket = open_ticket(session, a_ticket(), now=now, start=False).ticket
        spec = lifecycles(session)[TicketType.complaint]
        handoff = next(s for s in spec.steps if s.kind == StepKind.handoff)
        close = next(s for s in spec.steps if s.kind == StepKind.close)
        department = session.scalar(select(Department).where(Department.code == "D3202-marketing"))
        handler = session.scalar(select(Staff).where(Staff.department_id == department.id))
        open_step(session, ticket, handoff, 1, department=department, assignee=None, now=now)
        number, handler_id = ticket.number, handler.id
    audit_due(now=now + timedelta(days=60), policy=AuditPolicy(), timezone=TZ, database_url=url)
    complete_step(number, handoff.key, {"result": "已处理", "reply_text": "已处理完毕"}, handler_id,
                  now=now)
    with session_scope(url) as session:
        record_system_step(session, get_ticket(session, number), close, 1, outcome="done",
                           detail={}, message="归档", now=now)
    return number


def webhook_rows(url: str) -> list[OutboxMessage]:
    with session_scope(url) as session:
        return list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.channel == MessageChannel.webhook).order_by(OutboxMessage.id)))


def test_a_receiver_down_for_an_hour_misses_nothing(centre):
    port = free_port()
    with session_scope(centre) as session:
        subscription = add_subscription(session, name="工单系统", events=list(EVENTS),
                                        url=f"http://127.0.0.1:{port}/hooks", now=now_utc())
        closings = add_subscription(session, name="只看办结", events=["ticket.closed"],
                                    url=f"http://127.0.0.1:{port}/closed", now=now_utc())
        subscription_id = subscription.id
        secrets = {"/hooks": subscription.secret, "/closed": closings.secret}
    start = now_utc()
    number = one_ticket_through_its_events(centre, start)
    queued = webhook_rows(centre)
    events = Counter(m.template for m in queued)
    assert set(events) == set(EVENTS)
    assert events["ticket.closed"] == 2 and events["ticket.created"] == 1
    assert events["step.opened"] == 1 and events["step.done"] == 1

    gateways = gateways_for(SmsConfig(url=f"http://127.0.0.1:{free_port()}/sms"),
                            SmtpConfig(port=free_port(), timeout_seconds=2))
    clock = [start + timedelta(days=61)]
    policy = DeliveryPolicy()

    def deliver_for(minutes: int) -> None:
        for _ in range(minutes // 5):
            deliver_due(gateways=gateways, policy=policy, timezone=TZ, clock=lambda: clock[0])
            clock[0] += timedelta(minutes=5)

    deliver_for(60)  # the receiver is down
    assert {m.status for m in webhook_rows(centre)} == {OutboxStatus.failed}
    received: list[tuple[dict, bytes]] = []
    with webhook_receiver(port, received):
        deliver_for(60)
    assert {m.status for m in webhook_rows(centre)} == {OutboxStatus.sent}

    ids = Counter(headers["x-gridline-delivery"] for headers, _ in received)
    assert ids == Counter({delivery_ref(m.key): 1 for m in queued})  # each exactly once
    for headers, body in received:
        payload = json.loads(body)
        assert payload["id"] == headers["x-gridline-delivery"]
        assert payload["event"] == headers["x-gridline-event"]
        assert payload["data"]["ticket"]["number"] == number
        assert abs(int(headers["x-gridline-timestamp"]) - time.time()) < 600
        assert headers["x-gridline-signature"] == "sha256=" + signature(
            secrets[headers[":path"]], headers["x-gridline-timestamp"], body)
    done = next(json.loads(b) for h, b in received if h["x-gridline-event"] == "step.done")
    assert done["data"]["step"]["outcome"] == "已处理"

    with session_scope(centre) as session:
        log = deliveries(session, subscription_id)
        assert len(log) == len(queued) - 1  # the other subscription's closing notice
        for _message, _event, _number, attempts in log:
            assert [a.status_code for a in attempts] == [None] * 6 + [200]
            assert all(a.error for a in attempts[:6])
            assert [a.attempt for a in attempts] == list(range(1, 8))
