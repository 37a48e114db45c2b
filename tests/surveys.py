"""The satisfaction tests' centre: the demo organisation, closed tickets made at will, a survey
round, delivery to the loopback SMS platform and signed uplinks to the portal's API."""

import json
from datetime import datetime

import httpx
import pendulum
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from flows.intake import open_ticket
from models.core.enums import TicketStatus
from models.integrations.tables import signature
from models.messaging.outbox import DeliveryPolicy, SmsConfig, SmtpConfig
from models.surveys.campaigns import Campaign
from models.surveys.tables import Survey
from models.tickets.ticket import Ticket
from tasks.core.db import session_scope
from tasks.messaging.delivery import deliver_due
from tasks.messaging.gateways import gateways_for
from tasks.surveys.draw import close_lapsed, draw_round

TZ = "Asia/Shanghai"
SECRET = "uplink-secret-for-tests"
POLICY = DeliveryPolicy(max_attempts=2, backoff_base_seconds=60, backoff_cap_seconds=60)
# Far after the demo's own tickets, so only the tickets a test closes are in the window.
DAY = pendulum.datetime(2027, 3, 10, tz=TZ)


def at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    return DAY.add(days=days).set(hour=hour, minute=minute).in_timezone("UTC")


def campaign(**changes) -> Campaign:
    fields = dict(key="t", name="测试调查", rate=1.0, seed=7, delay_hours=2, valid_hours=48,
                  repeat_days=30)
    return Campaign(**(fields | changes))


def closed_ticket(url: str, closed_at: datetime, *, phone: str = "13812345678",
                  region: str = "320102", type: str = "complaint") -> str:
    with session_scope(url) as session:
        ticket = open_ticket(session, {
            "type": type, "phone": phone, "name": "张三", "address": "南京市玄武区中山路1号",
            "content": "抄表员态度恶劣", "region": region,
            "received_at": closed_at.subtract(days=1).isoformat()},
            now=closed_at.subtract(days=1), start=False).ticket
        ticket.status, ticket.closed_at = TicketStatus.closed, closed_at
        return ticket.number


def survey_round(url: str, now: datetime, *campaigns: Campaign) -> dict:
    with session_scope(url) as session:
        drawn = draw_round(session, list(campaigns) or [campaign()], now=now, timezone=TZ,
                           policy=POLICY)
        return dict(drawn) | dict(close_lapsed(session, now=now))


def deliver(platform, now: datetime) -> dict:
    return dict(deliver_due(gateways=gateways_for(SmsConfig(url=platform.url), SmtpConfig()),
                            policy=POLICY, timezone=TZ, clock=lambda: now))


def survey_of(url: str, number: str) -> Survey | None:
    with session_scope(url) as session:
        return session.scalar(select(Survey).join(Ticket, Survey.ticket_id == Ticket.id)
                              .options(joinedload(Survey.message), joinedload(Survey.follow_up))
                              .where(Ticket.number == number))


def uplink(base_url: str, now: datetime, body: dict, secret: str = SECRET) -> httpx.Response:
    raw = json.dumps(body, ensure_ascii=False).encode()
    stamp = str(int(now.timestamp()))
    return httpx.post(f"{base_url}/api/v1/sms/uplink", content=raw, timeout=30, headers={
        "Content-Type": "application/json", "X-Gridline-Timestamp": stamp,
        "X-Gridline-Signature": f"sha256={signature(secret, stamp, raw)}"})
