"""Deliver what the outbox holds: claim, send outside any transaction, record each outcome."""

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from models.messaging.outbox import DeliveryPolicy, MessageChannel, OutboxMessage
from tasks.core.db import session_scope
from tasks.messaging.gateways import GatewayError
from tasks.messaging.outbox import claim_due, record_failure, record_sent


def deliver_due(*, gateways: dict[MessageChannel, Any], policy: DeliveryPolicy, timezone: str,
                clock: Callable[[], datetime], limit: int = 100, concurrency: int = 8) -> Counter:
    """One round of delivery; returns counts of sent and failed messages."""
    with session_scope() as session:
        claimed = claim_due(session, now=clock(), policy=policy, timezone=timezone, limit=limit)
        session.flush()
        session.expunge_all()  # the rows travel on to the gateways without a session
    outcomes = asyncio.run(_send_all(claimed, gateways, concurrency))
    counts: Counter = Counter()
    for message, outcome in zip(claimed, outcomes, strict=True):
        with session_scope() as session:  # each outcome on its own: one bad row spoils no other
            if isinstance(outcome, GatewayError):
                record_failure(session, message.id, error=outcome.reason, now=clock(),
                               policy=policy, response=outcome.response)
                counts["failed"] += 1
            else:
                record_sent(session, message.id, response=outcome, now=clock())
                counts["sent"] += 1
    return counts


async def _send_all(messages: list[OutboxMessage], gateways, concurrency: int) -> list:
    gate = asyncio.Semaphore(concurrency)

    async def one(message: OutboxMessage):
        async with gate:
            try:
                return await gateways[message.channel].send(message)
            except GatewayError as exc:
                return exc
            except Exception as exc:  # a bug in a gateway still fails only its own message
                return GatewayError(f"发送异常 | unexpected: {exc!r}")

    return await asyncio.gather(*(one(m) for m in messages))
