"""The webhook channel of the outbox: POST the event's JSON to the subscriber, signed.

Headers: X-Gridline-Event, X-Gridline-Delivery (the same for every copy of one delivery: a
receiver drops a repeat on it), X-Gridline-Timestamp (Unix seconds of this attempt) and
X-Gridline-Signature: sha256=HMAC-SHA256(secret, "<timestamp>.<body>"). Any 2xx is accepted;
each attempt is written to the delivery log with the receiver's status or the error.
"""

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel

from models.integrations.tables import WebhookDelivery, signature
from models.messaging.outbox import OutboxMessage, delivery_ref
from tasks.core.db import session_scope
from tasks.integrations.webhooks import log_attempt
from tasks.messaging.gateways import GatewayError


class WebhookConfig(BaseModel):
    timeout_seconds: float = 10


class WebhookGateway:
    def __init__(self, config: WebhookConfig):
        self.config = config

    @asynccontextmanager
    async def connect(self, concurrency: int = 8) -> AsyncIterator:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(timeout=self.config.timeout_seconds, limits=limits,
                                     follow_redirects=False) as client:
            yield lambda message: self._send(client, message)

    async def _send(self, client: httpx.AsyncClient, message: OutboxMessage) -> dict[str, Any]:
        with session_scope() as session:
            delivery = session.get(WebhookDelivery, message.id)
            secret = delivery.subscription.secret if delivery else None
        if secret is None:
            raise GatewayError("订阅已删除 | subscription gone")
        body = message.body_text.encode("utf-8")
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "X-Gridline-Event": message.template,
                   "X-Gridline-Delivery": delivery_ref(message.key),
                   "X-Gridline-Timestamp": stamp,
                   "X-Gridline-Signature": f"sha256={signature(secret, stamp, body)}"}
        try:
            reply = await client.post(message.recipient, content=body, headers=headers)
        except httpx.HTTPError as exc:
            self._log(message, None, f"{type(exc).__name__}: {exc}")
            raise GatewayError(f"Webhook 接收方无法连接 | receiver unreachable: {exc!r}") from exc
        answer = {"status": reply.status_code, "body": reply.text[:500]}
        if not reply.is_success:
            self._log(message, reply.status_code, reply.text[:500] or None)
            raise GatewayError(f"Webhook 接收方返回 HTTP {reply.status_code}", answer)
        self._log(message, reply.status_code, None)
        return answer

    @staticmethod
    def _log(message: OutboxMessage, status: int | None, error: str | None) -> None:
        with session_scope() as session:
            log_attempt(session, message, at=datetime.now(UTC), status_code=status, error=error)
