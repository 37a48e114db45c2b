"""Deliver what the outbox holds: claim, send outside any transaction, record each outcome.

A claim marks due messages `sending` with a lease, in one short transaction; deliverers running at
once never take the same message (PostgreSQL skips rows another claim has locked; on any database
the claim is a conditional UPDATE that only the first to see the row wins). Each outcome is written
the moment its gateway answers, in a transaction of its own: a crash loses only the answers of the
messages in flight, at most `concurrency`, which the next claim after the lease sends again.
"""

import asyncio
from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.messaging.outbox import (
    DeliveryPolicy,
    MessageChannel,
    OutboxMessage,
    OutboxStatus,
    quiet_hours_end,
)
from tasks.core.db import session_scope
from tasks.messaging.gateways import GatewayError

CLAIMABLE = (OutboxStatus.queued, OutboxStatus.failed, OutboxStatus.sending)


def deliver_due(*, gateways: dict[MessageChannel, Any], policy: DeliveryPolicy, timezone: str,
                clock: Callable[[], datetime], limit: int = 100, concurrency: int = 8) -> Counter:
    """One round of delivery; returns counts of sent and failed messages."""
    with session_scope() as session:
        claimed = claim_due(session, now=clock(), policy=policy, timezone=timezone, limit=limit)
        session.expunge_all()  # the rows travel on to the gateways without a session
    if not claimed:
        return Counter()
    return asyncio.run(_send_all(claimed, gateways, policy, clock, concurrency))


def claim_due(session: Session, *, now: datetime, policy: DeliveryPolicy, timezone: str,
              limit: int = 100) -> list[OutboxMessage]:
    """Take due messages for delivery: each claim counts as an attempt and holds a lease."""
    due = (OutboxMessage.status.in_(CLAIMABLE), OutboxMessage.next_attempt_at <= now)
    rows = session.scalars(
        select(OutboxMessage).where(*due)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    lease_end = now + timedelta(seconds=policy.lease_seconds)
    for message in rows:
        if message.to_customer and not message.urgent:
            quiet_end = quiet_hours_end(now, policy.quiet_start, policy.quiet_end, timezone)
            if quiet_end is not None:  # a retry that fell into the night waits for the morning
                _change(session, message, due, status=OutboxStatus.queued,
                        next_attempt_at=quiet_end)
                continue
        if message.status == OutboxStatus.sending and message.attempts >= policy.attempts_for(message.channel):
            _change(session, message, due, status=OutboxStatus.dead,
                    last_error="lost while sending too many times")
            continue
        if _change(session, message, due, status=OutboxStatus.sending,
                   attempts=message.attempts + 1, next_attempt_at=lease_end):
            claimed.append(message)
    if not claimed:
        return []
    return list(session.scalars(  # the rows as this claim left them, in one read
        select(OutboxMessage).where(OutboxMessage.id.in_([m.id for m in claimed]))
        .order_by(OutboxMessage.id).execution_options(populate_existing=True)))


def _change(session: Session, message: OutboxMessage, due, **values) -> bool:
    """Change a row only if no one else claimed it since it was read: the rowcount decides."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.attempts == message.attempts, *due)
        .values(**values)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def record_sent(message: OutboxMessage, *, response: dict[str, Any], now: datetime) -> None:
    """Sent wins over anything else: the message left, whoever claimed it since."""
    with session_scope() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.status != OutboxStatus.sent)
            .values(status=OutboxStatus.sent, sent_at=now, gateway_response=response,
                    last_error=None))


def record_failure(message: OutboxMessage, *, error: str, response: dict[str, Any] | None,
                   now: datetime, policy: DeliveryPolicy) -> None:
    """A failure counts only while the claim is still this one's (not re-claimed, not sent)."""
    gave_up = message.attempts >= policy.attempts_for(message.channel)
    values = dict(status=OutboxStatus.dead if gave_up else OutboxStatus.failed,
                  last_error=error, gateway_response=response)
    if not gave_up:
        values["next_attempt_at"] = policy.next_attempt(message.attempts, now)
    with session_scope() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.attempts == message.attempts,
                   OutboxMessage.status == OutboxStatus.sending)
            .values(**values))


async def _send_all(messages: list[OutboxMessage], gateways, policy: DeliveryPolicy,
                    clock: Callable[[], datetime], concurrency: int) -> Counter:
    gate, counts = asyncio.Semaphore(concurrency), Counter()
    async with AsyncExitStack() as connections:  # one pool / connection per channel and round
        senders = {channel: await connections.enter_async_context(
                       gateways[channel].connect(concurrency))
                   for channel in {message.channel for message in messages}}

        async def one(message: OutboxMessage) -> None:
            async with gate:
                outcome = await _attempt(senders[message.channel], message)
            # Written before the next answer is read: a crash now loses only those in flight.
            if isinstance(outcome, GatewayError):
                record_failure(message, error=outcome.reason, response=outcome.response,
                               now=clock(), policy=policy)
                counts["failed"] += 1
            else:
                record_sent(message, response=outcome, now=clock())
                counts["sent"] += 1

        await asyncio.gather(*(one(message) for message in messages))
    return counts


async def _attempt(send, message: OutboxMessage):
    try:
        return await send(message)
    except GatewayError as exc:
        return exc
    except Exception as exc:  # a bug in a gateway still fails only its own message
        return GatewayError(f"发送异常 | unexpected: {exc!r}")
