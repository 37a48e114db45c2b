"""Webhooks out: subscriptions, and each event queued in the outbox once per subscription that
listens to it (channel `webhook`), so delivery is the outbox's: at least once, with backoff, a lease
and an admin's retry. The hooks below are called where the events happen (intake, the lifecycle's
writes, the audit) in the same transaction, so an event is queued exactly when its change commits.
"""

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.core.errors import InputError
from models.core.formatting import utc_iso
from models.integrations.tables import (
    EVENTS,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from models.messaging.outbox import MessageChannel, OutboxMessage, OutboxStatus, delivery_ref
from models.org.organisation import Department, Staff
from models.tickets.ticket import Step, Ticket

URL_MAX = WebhookSubscription.url.type.length


def add_subscription(session: Session, *, name: str, url: str, events: list[str],
                     now: datetime, secret: str | None = None) -> WebhookSubscription:
    """A new subscription; its secret (generated unless given) signs every delivery."""
    name, url = name.strip(), url.strip()
    if not name or len(name) > 100:
        raise InputError("name", "名称不能为空，最多 100 个字", "name must be 1-100 characters")
    if not url.startswith(("http://", "https://")) or len(url) > URL_MAX or any(
            ch.isspace() for ch in url):
        raise InputError("url", f"须为 http(s) 地址，最多 {URL_MAX} 个字符",
                         f"must be an http(s) URL of at most {URL_MAX} characters")
    unknown = [e for e in events if e not in EVENTS]
    if unknown or not events:
        raise InputError("events", f"事件无效，可选：{'、'.join(EVENTS)}",
                         f"events must be some of {', '.join(EVENTS)}; got {unknown or 'none'}")
    subscription = WebhookSubscription(
        name=name, url=url, events=sorted(set(events), key=EVENTS.index),
        secret=secret or secrets.token_hex(32), created_at=now)
    session.add(subscription)
    session.flush()
    return subscription


def set_active(session: Session, subscription_id: int, active: bool) -> WebhookSubscription:
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise InputError("id", "订阅不存在", f"no webhook subscription {subscription_id}")
    subscription.active = active
    return subscription


def subscriptions(session: Session) -> list[WebhookSubscription]:
    return list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def deliveries(session: Session, subscription_id: int, limit: int = 100) -> list[tuple]:
    """The delivery log of a subscription, newest first: (outbox row, event, ticket number,
    attempts logged)."""
    rows = session.execute(
        select(OutboxMessage, WebhookDelivery.event, Ticket.number)
        .join(WebhookDelivery, WebhookDelivery.outbox_id == OutboxMessage.id)
        .outerjoin(Ticket, Ticket.id == OutboxMessage.ticket_id)
        .where(WebhookDelivery.subscription_id == subscription_id)
        .order_by(OutboxMessage.id.desc()).limit(limit)).all()
    attempts: dict[int, list[WebhookAttempt]] = {}
    for attempt in session.scalars(select(WebhookAttempt).where(
            WebhookAttempt.outbox_id.in_([row[0].id for row in rows])).order_by(WebhookAttempt.id)):
        attempts.setdefault(attempt.outbox_id, []).append(attempt)
    return [(message, event, number, attempts.get(message.id, []))
            for message, event, number in rows]


def log_attempt(session: Session, message: OutboxMessage, *, at: datetime,
                status_code: int | None, error: str | None) -> None:
    session.add(WebhookAttempt(outbox_id=message.id, attempt=message.attempts, at=at,
                               status_code=status_code, error=error))


def emit(session: Session, event: str, key: str, data: dict[str, Any], *, now: datetime,
         ticket_id: int | None = None) -> int:
    """Queue `event` for every active subscription to it, once per `key` (the event's identity:
    queued again it adds nothing). Returns how many deliveries were new."""
    listening = [s for s in _active(session) if event in s.events]
    new = 0
    for subscription in listening:
        outbox_key = f"webhook:{subscription.id}:{event}:{key}"
        if session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.key == outbox_key)):
            continue
        body = json.dumps({"id": delivery_ref(outbox_key), "event": event,
                           "occurred_at": utc_iso(now), "data": data},
                          ensure_ascii=False, separators=(",", ":"))
        message = OutboxMessage(
            key=outbox_key, channel=MessageChannel.webhook, recipient=subscription.url,
            template=event, body_text=body, ticket_id=ticket_id, status=OutboxStatus.queued,
            attempts=0, created_at=now, next_attempt_at=now)
        savepoint = session.begin_nested()
        session.add(message)
        try:
            session.flush()
            session.add(WebhookDelivery(outbox_id=message.id, subscription_id=subscription.id,
                                        event=event))
            savepoint.commit()
            new += 1
        except IntegrityError:  # queued by a concurrent writer a moment ago
            savepoint.rollback()
    return new


def _active(session: Session) -> list[WebhookSubscription]:
    """Read once per session: an audit batch emits for thousands of clocks."""
    if "webhook_subscriptions" not in session.info:
        session.info["webhook_subscriptions"] = list(session.scalars(
            select(WebhookSubscription).where(WebhookSubscription.active.is_(True))))
    return session.info["webhook_subscriptions"]


def _ticket(ticket: Ticket) -> dict[str, Any]:
    return {"number": ticket.number, "type": ticket.type.value, "status": ticket.status.value,
            "channel": ticket.channel.value, "urgency": ticket.urgency.value,
            "region": ticket.region.code if ticket.region else None,
            "received_at": utc_iso(ticket.received_at)}


def ticket_created(session: Session, ticket: Ticket, now: datetime) -> None:
    emit(session, "ticket.created", ticket.number, {"ticket": _ticket(ticket)}, now=now,
         ticket_id=ticket.id)


def step_entered(session: Session, ticket: Ticket, step: Step, *, closes: bool,
                 now: datetime) -> None:
    """A step written by the lifecycle: a person's step opened, or the closing step (the ticket
    is closed); the system's other steps say nothing."""
    if closes:
        emit(session, "ticket.closed", ticket.number, {"ticket": _ticket(ticket)}, now=now,
             ticket_id=ticket.id)
    elif step.completed_at is None:
        emit(session, "step.opened", f"{ticket.number}:{step.step_key}:{step.attempt}",
             {"ticket": _ticket(ticket), "step": _step(session, step)}, now=now,
             ticket_id=ticket.id)


def step_done(session: Session, ticket: Ticket, step: Step, outcome: str, now: datetime) -> None:
    emit(session, "step.done", f"{ticket.number}:{step.step_key}:{step.attempt}",
         {"ticket": _ticket(ticket), "step": {**_step(session, step), "outcome": outcome}},
         now=now, ticket_id=ticket.id)


def clock_overdue(session: Session, clock: Row, repeat: int, now: datetime) -> None:
    """The audit found a deadline passed (a clock row of tasks/audit/chase.DUE_COLUMNS); each
    repeated reminder is an event of its own."""
    emit(session, "reminder.overdue", f"{clock.number}:{clock.id}:{repeat}",
         {"ticket": {"number": clock.number}, "clock": clock.label,
          "due_at": utc_iso(clock.due_at), "repeat": repeat}, now=now,
         ticket_id=clock.ticket_id)


def _step(session: Session, step: Step) -> dict[str, Any]:
    department = session.get(Department, step.department_id) if step.department_id else None
    by = session.get(Staff, step.completed_by_id) if step.completed_by_id else None
    return {"key": step.step_key, "attempt": step.attempt, "status": step.status.value,
            "department": department.code if department else None,
            "due_at": utc_iso(step.due_at),
            "completed_by": by.code if by else None}
