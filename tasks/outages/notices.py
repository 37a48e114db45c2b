"""Planned outages told ahead to the customers of their area, through the outbox: each notice
queued once per outage and customer (its outbox key), however often the schedule runs."""

from datetime import datetime

import pendulum
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.org.customer import Customer
from models.outages.notices import NoticeRules, load_notice_rules, notice_due
from models.outages.outage import Outage, OutageArea, OutageStatus
from tasks.messaging.outbox import Intent, enqueue_many
from tasks.org.scope import region_subtree

BATCH = 5000


def notice_key(outage: Outage, customer_id: int) -> str:
    return f"outage:{outage.id}:notice:{customer_id}:sms"


def due_outages(session: Session, rules: NoticeRules, now: datetime,
                timezone: str) -> list[tuple[Outage, bool]]:
    """Planned outages still to start whose notice time has come, each with whether only key
    customers are told (the rule in force on its start date)."""
    found = []
    for outage in session.scalars(
            select(Outage).where(Outage.status == OutageStatus.planned, Outage.start_at > now)
            .options(selectinload(Outage.areas).selectinload(OutageArea.region))):
        day = pendulum.instance(outage.start_at).in_timezone(timezone).date()
        ruled = rules.rule_for(outage.kind, day)
        if ruled and notice_due(outage.start_at, ruled[1]) <= now:
            found.append((outage, ruled[1].customers == "important"))
    return found


def _context(outage: Outage) -> dict:
    return {"outage_no": outage.number, "kind": outage.kind.label, "reason": outage.reason,
            "area": "、".join(a.region.name for a in outage.areas),
            "lines": "、".join(outage.lines), "start_at": outage.start_at,
            "restore_at": outage.restore_at}


def send_notices(session: Session, *, now: datetime, timezone: str,
                 rules: NoticeRules | None = None) -> dict[str, int]:
    """Queue the notices due now: {outage number: notices newly queued}."""
    rules = rules or load_notice_rules()
    sent: dict[str, int] = {}
    for outage, important_only in due_outages(session, rules, now, timezone):
        regions = set().union(*(region_subtree(session, a.region_id) for a in outage.areas))
        query = select(Customer.id, Customer.phone).where(Customer.region_id.in_(regions))
        if important_only:
            query = query.where(Customer.important.is_(True))
        context, queued = _context(outage), 0
        for batch in session.execute(query.order_by(Customer.id)).partitions(BATCH):
            queued += enqueue_many(session, [
                Intent(key=notice_key(outage, customer_id), channel="sms", recipient=phone,
                       template="outage_notice", context=context, to_customer=True)
                for customer_id, phone in batch], now=now, timezone=timezone)
        sent[outage.number] = queued
    return sent
