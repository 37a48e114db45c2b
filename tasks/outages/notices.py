"""Planned outages told ahead to the customers of their area, through the outbox: each notice
queued once per outage and customer (its outbox key), however often the schedule runs; and the
customers told kept up to date when the outage moves (停电时间变更) or is cancelled (停电取消).

A told customer's messages about one outage are a thread: the notice, then updates numbered
1, 2, ... (`outage:<id>:update:<n>:<customer>:sms`), each a change or a cancellation. An update
is due when the last message the customer got no longer says what the outage is: a cancellation
for a cancelled outage, else a text naming the outage's current start and restore. The outbox's
own text is the record of what they were told, so no table is needed and a window moved back
and forth (A, B, A, B) is told each time; the numbered key lets two passes at once queue it once.
"""

from dataclasses import dataclass, field
from datetime import datetime

import pendulum
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.core.formatting import local_time
from models.messaging.outbox import OutboxMessage
from models.org.customer import Customer
from models.outages.notices import NoticeRules, load_notice_rules, notice_due
from models.outages.outage import Outage, OutageArea, OutageKind, OutageStatus
from tasks.messaging.outbox import Intent, enqueue_many
from tasks.org.scope import region_subtree

BATCH = 5000
CHUNK = 500  # keys per IN (...) look-up, as the outbox's own
NOTICE, CHANGE, CANCEL = "outage_notice", "outage_change", "outage_cancel"
# Updates reach the customers told of a planned outage that has not ended, or of one cancelled
# before its end; a restored outage is history.
UPDATED = (OutageStatus.planned, OutageStatus.active, OutageStatus.cancelled)


def notice_key(outage: Outage, customer_id: int) -> str:
    return f"outage:{outage.id}:notice:{customer_id}:sms"


def update_key(outage: Outage, number: int, customer_id: int) -> str:
    return f"outage:{outage.id}:update:{number}:{customer_id}:sms"


def window_text(outage: Outage, timezone: str) -> str:
    """The outage's window as every outage message words it (`start_at | local_time`至
    `restore_at | local_time`): a message whose text holds it told the current window."""
    return f"{local_time(outage.start_at, timezone)}至{local_time(outage.restore_at, timezone)}"


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


def _area_customers(session: Session, outage: Outage, *, important_only: bool = False):
    regions = set().union(*(region_subtree(session, a.region_id) for a in outage.areas))
    query = select(Customer.id, Customer.phone).where(Customer.region_id.in_(regions))
    if important_only:
        query = query.where(Customer.important.is_(True))
    return session.execute(query.order_by(Customer.id))


def _queued(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        found.update(session.scalars(select(OutboxMessage.key).where(
            OutboxMessage.key.in_(keys[start:start + CHUNK]))))
    return found


def send_notices(session: Session, *, now: datetime, timezone: str,
                 rules: NoticeRules | None = None) -> dict[str, int]:
    """Queue the notices due now: {outage number: notices newly queued}."""
    rules = rules or load_notice_rules()
    sent: dict[str, int] = {}
    for outage, important_only in due_outages(session, rules, now, timezone):
        context, queued = _context(outage), 0
        for batch in _area_customers(session, outage, important_only=important_only).partitions(
                BATCH):
            queued += enqueue_many(session, [
                Intent(key=notice_key(outage, customer_id), channel="sms", recipient=phone,
                       template=NOTICE, context=context, to_customer=True)
                for customer_id, phone in batch], now=now, timezone=timezone)
        sent[outage.number] = queued
    return sent


def _last_told(session: Session, outage: Outage, customer_ids: list[int]
               ) -> dict[int, tuple[int, str]]:
    """Of these customers, those told of the outage: {customer id: (updates so far, key of the
    last message)}. Exact keys only, one round per update, so the outbox's unique index answers."""
    told: dict[int, tuple[int, str]] = {}
    keys = {notice_key(outage, c): c for c in customer_ids}
    number = 0
    while keys:
        found = {keys[key]: key for key in _queued(session, list(keys))}
        told.update({c: (number, key) for c, key in found.items()})
        number += 1
        keys = {update_key(outage, number, c): c for c in found}
    return told


def _still_true(outage: Outage, template: str, names_window: bool) -> bool:
    """Whether the last message a customer read about the outage still holds."""
    if outage.status == OutageStatus.cancelled:
        return template == CANCEL
    return template != CANCEL and names_window


def _updates_due(session: Session, outage: Outage, customers: list[tuple[int, str]],
                 timezone: str) -> list[Intent]:
    told = _last_told(session, outage, [c for c, _ in customers])
    said, last = window_text(outage, timezone), {}
    keys = [key for _, key in told.values()]
    for start in range(0, len(keys), CHUNK):
        last.update((key, (template, bool(names))) for key, template, names in session.execute(
            select(OutboxMessage.key, OutboxMessage.template,
                   OutboxMessage.body_text.contains(said, autoescape=True))
            .where(OutboxMessage.key.in_(keys[start:start + CHUNK]))))
    template = CANCEL if outage.status == OutageStatus.cancelled else CHANGE
    context, phones = _context(outage), dict(customers)
    return [Intent(key=update_key(outage, number + 1, customer_id), channel="sms",
                   recipient=phones[customer_id], template=template, context=context,
                   to_customer=True)
            for customer_id, (number, key) in told.items() if not _still_true(outage, *last[key])]


def send_updates(session: Session, *, now: datetime,
                 timezone: str) -> tuple[dict[str, int], dict[str, int]]:
    """Queue the change and cancellation notices due now to the customers told of an outage
    (those of its area still): ({outage number: changes queued}, {outage number: cancellations
    queued}), naming only the outages with something queued."""
    changed: dict[str, int] = {}
    cancelled: dict[str, int] = {}
    for outage in session.scalars(
            select(Outage).where(Outage.status.in_(UPDATED), Outage.kind != OutageKind.fault,
                                 Outage.restore_at > now)
            .options(selectinload(Outage.areas).selectinload(OutageArea.region))
            .order_by(Outage.start_at, Outage.id)):
        queued = 0
        for batch in _area_customers(session, outage).partitions(BATCH):
            queued += enqueue_many(session, _updates_due(session, outage, list(batch), timezone),
                                   now=now, timezone=timezone)
        if queued:
            into = cancelled if outage.status == OutageStatus.cancelled else changed
            into[outage.number] = queued
    return changed, cancelled


@dataclass
class NoticePass:
    """What one scheduled pass queued, by outage number."""

    notices: dict[str, int] = field(default_factory=dict)
    changes: dict[str, int] = field(default_factory=dict)
    cancellations: dict[str, int] = field(default_factory=dict)


def notice_pass(session: Session, *, now: datetime, timezone: str,
                rules: NoticeRules | None = None) -> NoticePass:
    """The scheduled pass (the outage-notices deployment, `gridline outages notices`): notices
    due now, then the changes and cancellations their customers are owed."""
    notices = send_notices(session, now=now, timezone=timezone, rules=rules)
    changes, cancellations = send_updates(session, now=now, timezone=timezone)
    return NoticePass(notices, changes, cancellations)
