"""The outbox: every message Gridline sends is first a row here, so a failing channel loses nothing.

Pure rules of delivery live beside the table: backoff between attempts, quiet hours for customers,
and masking customers' phone numbers in what staff read.
"""

import hashlib
from datetime import datetime, time, timedelta
from typing import Any, Literal

import pendulum
from pydantic import BaseModel, Field
from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.core.base import Base, UTCDateTime, enum_column
from models.core.enums import Labelled


class MessageChannel(Labelled):
    sms = "sms", "短信"
    email = "email", "电子邮件"
    webhook = "webhook", "Webhook"


class OutboxStatus(Labelled):
    queued = "queued", "待发送"
    sending = "sending", "发送中"
    sent = "sent", "已发送"
    failed = "failed", "发送失败待重试"
    dead = "dead", "发送失败已放弃"


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        # Delivery asks "which messages are due": status + next attempt time, an index range scan.
        Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # idempotency: one row per intent
    channel: Mapped[MessageChannel] = enum_column(MessageChannel)
    recipient: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str | None] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    step_id: Mapped[int | None] = mapped_column(ForeignKey("steps.id"))
    to_customer: Mapped[bool] = mapped_column(default=False)
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[OutboxStatus] = enum_column(OutboxStatus, default=OutboxStatus.queued)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    gateway_response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Files an e-mail carries (paths on the machine that sends it), read when it is sent.
    attachments: Mapped[list[str] | None] = mapped_column(JSON)


def delivery_ref(key: str) -> str:
    """The idempotency key a gateway sees: stable for one outbox key, 32 letters and digits, so it
    fits the short client-reference fields SMS platforms have (the key itself may be 200 long)."""
    return "gl" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:30]


def backoff(attempts: int, base: timedelta, cap: timedelta) -> timedelta:
    """Exponential backoff after the n-th failed attempt: base, 2*base, 4*base, ... up to cap."""
    return min(cap, base * (2 ** max(0, attempts - 1)))


def quiet_hours_end(now: datetime, start: time, end: time, timezone: str) -> datetime | None:
    """If `now` falls in the quiet hours (e.g. 22:00-08:00, may span midnight), when they end."""
    local = pendulum.instance(now).in_timezone(timezone)
    clock = local.time()
    spans_midnight = start > end
    inside = (clock >= start or clock < end) if spans_midnight else (start <= clock < end)
    if not inside:
        return None
    ends = local.set(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends = ends.add(days=1)
    return ends


class DeliveryPolicy(BaseModel):
    """How hard the outbox tries, and when customers may be disturbed."""

    max_attempts: int = Field(6, ge=1)
    # A receiver system may be down for hours: with the backoff below, 12 tries span about 7 h.
    webhook_max_attempts: int = Field(12, ge=1)
    backoff_base_seconds: int = Field(60, ge=1)
    backoff_cap_seconds: int = Field(3600, ge=1)
    # A message left "sending" longer than this was lost in a crash: it is tried again.
    lease_seconds: int = Field(300, ge=10)
    quiet_start: time = time(22, 0)
    quiet_end: time = time(8, 0)

    def attempts_for(self, channel: MessageChannel) -> int:
        return self.webhook_max_attempts if channel == MessageChannel.webhook else self.max_attempts

    def next_attempt(self, attempts: int, now: datetime) -> datetime:
        return now + backoff(attempts, timedelta(seconds=self.backoff_base_seconds),
                             timedelta(seconds=self.backoff_cap_seconds))


class SmtpConfig(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8025  # the local sink that `gridline up` starts
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    password: str | None = None
    sender: str = "95598客服中心 <noreply@gridline.invalid>"
    timeout_seconds: float = 20


class SmsConfig(BaseModel):
    """An operator's HTTP SMS platform: the request body is a jinja2 template of the message,
    with `recipient`, `text`, `ref` (the idempotency key, the same for every copy of a message:
    map it to the platform's client reference, on which it can drop a resend) and `key`."""

    url: str = "http://127.0.0.1:8026/sms"  # the local sink that `gridline up` starts
    username: str | None = None  # HTTP basic auth, when the platform wants it
    password: str | None = None
    headers: dict[str, str] = {"Content-Type": "application/json"}
    body_template: str = ('{"to": {{ recipient | tojson }}, "text": {{ text | tojson }}, '
                          '"ref": {{ ref | tojson }}}')
    # The platform accepted the message only if its JSON answer has this key with this value.
    success_key: str = "code"
    success_value: str = "0"
    timeout_seconds: float = 20
