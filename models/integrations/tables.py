"""What other systems hold: API keys (hashed, scoped, limited to a unit subtree), the responses of
idempotent requests, their screen-pop lookups, and webhook subscriptions with their delivery log.

Pure helpers beside the tables: a key's hash, the webhook signature, the known scopes and events.
"""

import hashlib
import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.core.base import Base, UTCDateTime
from models.org.organisation import Region

SCOPES = ("tickets:read", "tickets:write", "steps:write", "customers:read", "imports:write",
          "statistics:read")
EVENTS = ("ticket.created", "step.opened", "step.done", "ticket.closed", "reminder.overdue")
TOKEN_PREFIX = "gl_"


def token_hash(token: str) -> str:
    """One-way: the database never holds a usable key."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex, as the X-Gridline-Signature header carries it
    (after "sha256=")."""
    return hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body,
                    hashlib.sha256).hexdigest()


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # the integrated system
    prefix: Mapped[str] = mapped_column(String(16))  # the key's first letters, to recognise it
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))  # sees this unit and below
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The rate limit's fixed one-minute window: its start and the requests counted in it.
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_count: Mapped[int] = mapped_column(default=0)

    region: Mapped[Region] = relationship()


class IdempotentRequest(Base):
    """A POST sent with an Idempotency-Key: the hash of its body and, once done, its response."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("api_key_id", "key", name="uq_api_idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    status_code: Mapped[int | None] = mapped_column()
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ApiLookup(Base):
    """A system looked a calling number up (personal data: which key asked for whom, when)."""

    __tablename__ = "api_lookups"
    __table_args__ = (Index("ix_api_lookups_key_at", "api_key_id", "looked_up_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    phone: Mapped[str] = mapped_column(String(20))
    looked_up_at: Mapped[datetime] = mapped_column(UTCDateTime)
    found: Mapped[bool] = mapped_column(default=False)


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(200))  # the outbox's recipient column
    secret: Mapped[str] = mapped_column(String(100))  # signs each delivery: kept, not hashed
    events: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """An outbox message of the webhook channel: which subscription, which event."""

    __tablename__ = "webhook_deliveries"

    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"),
                                                 index=True)
    event: Mapped[str] = mapped_column(String(40))

    subscription: Mapped[WebhookSubscription] = relationship()


class WebhookAttempt(Base):
    """The delivery log: one row per try, with the receiver's HTTP status or the error."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    attempt: Mapped[int] = mapped_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
