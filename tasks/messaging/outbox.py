"""The outbox: queue a message once per intent; an admin's retry; the list staff read.

Delivery (tasks/messaging/delivery.py) claims a message (status `sending`, with a lease) in its
own transaction, sends it outside any transaction, and marks it `sent` only after the gateway
accepted it. A crash between send and mark leaves it `sending`; when the lease runs out it is
claimed again: at least once, never lost.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.core.errors import InputError
from models.messaging.outbox import (
    DeliveryPolicy,
    MessageChannel,
    OutboxMessage,
    OutboxStatus,
    quiet_hours_end,
)
from tasks.core.settings import get_settings
from tasks.messaging.templates import load_templates, render


@dataclass(frozen=True)
class Intent:
    """One message someone means to send; `key` names the intent, so it is queued once."""

    key: str
    channel: str
    recipient: str
    template: str
    context: dict[str, Any]
    ticket_id: int | None = None
    step_id: int | None = None
    to_customer: bool = False
    urgent: bool = False
    attachments: tuple[str, ...] = ()  # files an e-mail carries, read when it is sent


class Reachable(Protocol):
    phone: str | None
    email: str | None


def messages_to(person: Reachable, *, key: str, template: str, context: dict[str, Any],
                ticket_id: int | None = None, urgent: bool = False) -> list[Intent]:
    """Telling one person: an SMS to their phone and an e-mail to their address, whichever they
    have, keyed `<key>:sms` and `<key>:email`. Queue them with `enqueue_many`."""
    return [Intent(key=f"{key}:{channel}", channel=channel, recipient=address, template=template,
                   context=context, ticket_id=ticket_id, urgent=urgent)
            for channel, address in (("sms", person.phone), ("email", person.email)) if address]


def _values(intent: Intent, now: datetime, policy: DeliveryPolicy,
            timezone: str, link_base: str) -> dict[str, Any]:
    """The columns of a new outbox row: rendered now, not before the customer's quiet hours end.
    An e-mail about a ticket links to the ticket's page in the portal."""
    channel = MessageChannel(intent.channel)
    context = intent.context
    if channel == MessageChannel.email and "ticket_no" in context:
        context = {**context, "ticket_url": f"{link_base}/tickets/{context['ticket_no']}"}
    subject, text, html = render(load_templates(timezone), channel, intent.template, context)
    not_before = now
    if intent.to_customer and not intent.urgent:
        not_before = quiet_hours_end(now, policy.quiet_start, policy.quiet_end, timezone) or now
    return dict(
        key=intent.key, channel=channel, recipient=intent.recipient, template=intent.template,
        subject=subject, body_text=text, body_html=html, ticket_id=intent.ticket_id,
        step_id=intent.step_id, to_customer=intent.to_customer, urgent=intent.urgent,
        status=OutboxStatus.queued, attempts=0, created_at=now, next_attempt_at=not_before,
        attachments=list(intent.attachments) or None,
    )


def _policy(policy: DeliveryPolicy | None, timezone: str | None) -> tuple[DeliveryPolicy, str]:
    if policy is None or timezone is None:
        settings = get_settings()
        return policy or settings.outbox, timezone or settings.timezone
    return policy, timezone


def enqueue(session: Session, *, key: str, channel: str, recipient: str, template: str,
            context: dict[str, Any], now: datetime, ticket_id: int | None = None,
            step_id: int | None = None, to_customer: bool = False, urgent: bool = False,
            attachments: tuple[str, ...] = (), policy: DeliveryPolicy | None = None,
            timezone: str | None = None) -> OutboxMessage:
    """Queue a message, rendered now; a key already queued returns that row and queues nothing."""
    existing = session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
    if existing is not None:
        return existing
    policy, timezone = _policy(policy, timezone)
    intent = Intent(key, channel, recipient, template, context, ticket_id, step_id, to_customer,
                    urgent, attachments)
    message = OutboxMessage(**_values(intent, now, policy, timezone,
                                      get_settings().portal.link_base()))
    savepoint = session.begin_nested()
    session.add(message)
    try:
        savepoint.commit()
    except IntegrityError:  # queued by someone else a moment ago
        savepoint.rollback()
        return session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
    return message


def enqueue_many(session: Session, intents: list[Intent], *, now: datetime,
                 policy: DeliveryPolicy | None = None, timezone: str | None = None) -> int:
    """Queue many intents at once (the audit's thousands): one look-up for keys already queued.
    Returns how many were new."""
    policy, timezone = _policy(policy, timezone)
    wanted = {intent.key: intent for intent in intents}
    keys = list(wanted)
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        for key in session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(chunk))):
            del wanted[key]
    if wanted:  # one multi-row INSERT: the ORM's unit of work is too slow for thousands
        link_base = get_settings().portal.link_base()
        session.execute(insert(OutboxMessage.__table__), [
            _values(intent, now, policy, timezone, link_base) for intent in wanted.values()])
    return len(wanted)


def retry(session: Session, message_id: int, *, now: datetime,
          stuck_before: datetime | None = None) -> OutboxMessage:
    """An admin's second chance for a dead or failed message, or one still queued since before
    `stuck_before` (the deliverer is not getting to it): queued now with fresh attempts."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise InputError("id", "消息不存在", f"no outbox message {message_id}")
    stuck = (stuck_before is not None and message.status == OutboxStatus.queued
             and message.next_attempt_at <= stuck_before)
    if message.status not in (OutboxStatus.dead, OutboxStatus.failed) and not stuck:
        raise InputError("id", f"消息状态为{message.status.label}，无需重试",
                         f"message {message_id} is {message.status.value}, not failed or dead")
    message.status, message.attempts, message.next_attempt_at = OutboxStatus.queued, 0, now
    return message


def list_messages(session: Session, *, status: OutboxStatus | None = None,
                  limit: int = 50) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return list(session.scalars(query))
