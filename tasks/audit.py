"""The deadline audit's work: check the clock, read the clocks whose time has come, queue reminders
through the outbox, keep the day's statistics rows, and schedule each clock's next look."""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pendulum
from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager

from models.audit import Assessment, AuditPolicy, AuditRecord, AuditStage, assess, span_text
from models.enums import OPEN_STATUSES, DepartmentKind, StaffRole, StepStatus
from models.org import Department, Staff
from models.ticket import Step, Ticket, TicketClock
from tasks.db import session_scope
from tasks.outbox import Intent, enqueue_many


def database_now(session: Session) -> datetime:
    """The database server's clock: the one every writer shares."""
    value = session.execute(select(func.current_timestamp())).scalar_one()
    if isinstance(value, str):  # SQLite answers text, in UTC
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def due_clocks(session: Session, *, now: datetime, policy: AuditPolicy,
               limit: int) -> list[TicketClock]:
    """Clocks whose next check has come: an index range scan on next_check_at."""
    return list(session.scalars(
        select(TicketClock).join(TicketClock.ticket)
        .where(TicketClock.next_check_at <= now, Ticket.type.in_(policy.target_types))
        .options(contains_eager(TicketClock.ticket))
        .order_by(TicketClock.next_check_at, TicketClock.id)
        .limit(limit)
    ))


@dataclass(frozen=True)
class Person:
    name: str
    phone: str | None
    email: str | None
    department: str


def _person(staff: Staff) -> Person:
    return Person(staff.name, staff.phone, staff.email, staff.department.name)


class Responsibility:
    """Who answers for a ticket's deadline: the assignee of its open step, else the head of that
    step's department; for a ticket watched from the marketing system, the person it names. Each
    person's supervisor, and the centre's duty manager, hear of escalations. Cached per audit."""

    def __init__(self, session: Session, tickets: list[Ticket]):
        self.session = session
        ids = [t.id for t in tickets]
        steps = session.scalars(
            select(Step).where(Step.ticket_id.in_(ids), Step.status == StepStatus.open)
            .order_by(Step.opened_at)) if ids else []
        self.open_step = {step.ticket_id: step for step in steps}  # the latest open step wins
        self._heads: dict[int, Staff | None] = {}
        self.duty = [_person(s) for s in session.scalars(
            select(Staff).join(Staff.department)
            .where(Staff.role == StaffRole.supervisor,
                   Department.kind == DepartmentKind.service_centre).order_by(Staff.id))]

    def _head(self, department_id: int) -> Staff | None:
        if department_id not in self._heads:
            self._heads[department_id] = self.session.scalars(
                select(Staff).where(Staff.department_id == department_id,
                                    Staff.role == StaffRole.head).order_by(Staff.id)).first()
        return self._heads[department_id]

    def responsible(self, ticket: Ticket) -> tuple[Person | None, Person | None]:
        """(responsible person, their supervisor)."""
        step = self.open_step.get(ticket.id)
        staff = None
        if step is not None:
            staff = step.assignee or (self._head(step.department_id) if step.department_id else None)
        if staff is not None:
            boss = staff.supervisor
            return _person(staff), _person(boss) if boss else None
        if ticket.responsible_phone:
            return Person(ticket.responsible_name or "", ticket.responsible_phone, None, ""), None
        return None, None


def audit_clocks(session: Session, clocks: list[TicketClock], *, now: datetime,
                 policy: AuditPolicy, timezone: str) -> Counter:
    """Assess each clock, queue what must be said, record the day's rows, schedule the next look."""
    counts: Counter = Counter()
    live = []
    for clock in clocks:
        if clock.met_at is not None or clock.ticket.status not in OPEN_STATUSES:
            clock.next_check_at = None  # nothing left to chase
        else:
            live.append(clock)
    who = Responsibility(session, [c.ticket for c in live])
    day = pendulum.instance(now).in_timezone(timezone).date()
    records = _records_of(session, day, [c.id for c in live])
    intents: list[Intent] = []
    for clock in live:
        verdict = assess(clock.due_at, timedelta(minutes=clock.warn_minutes), now, policy)
        clock.next_check_at = verdict.next_check_at
        if verdict.stage is None:
            continue
        counts[verdict.stage.value] += 1
        person, boss = who.responsible(clock.ticket)
        intents += _reminders(clock, verdict, now, person, boss, who.duty)
        _record(session, records, day, clock, verdict, person, now)
    queued = enqueue_many(session, intents, now=now, timezone=timezone)
    counts["queued"] += queued
    return counts


def _reminders(clock: TicketClock, verdict: Assessment, now: datetime, person: Person | None,
               boss: Person | None, duty: list[Person]) -> list[Intent]:
    ticket = clock.ticket
    context = {
        "ticket_no": ticket.number, "ticket_type": ticket.type.label, "content": ticket.content,
        "deadline": clock.due_at, "customer_phone": ticket.caller_phone, "address": ticket.address,
        "time_left": span_text(clock.due_at - now), "overdue_by": span_text(now - clock.due_at),
        "department": person.department if person else "", "responsible": person.name if person else "未指定",
    }
    base = f"audit:clock:{clock.id}"
    if verdict.stage == AuditStage.about_to_expire:
        plan = [(person, "about_to_expire", "about_to_expire")]
    else:
        plan = [(person, f"overdue:{verdict.repeat}", "overdue")]
        if verdict.escalation >= 1:
            plan.append((boss, "escalate:supervisor", "escalation"))
        if verdict.escalation >= 2:
            plan += [(manager, f"escalate:duty:{i}", "escalation") for i, manager in enumerate(duty)]
        if person is None:  # nobody answers for it: the duty manager does, at once
            plan += [(manager, f"unowned:duty:{i}:{verdict.repeat}", "escalation")
                     for i, manager in enumerate(duty)]
    intents = []
    for target, stage_key, template in plan:
        if target is None:
            continue
        for channel, address in (("sms", target.phone), ("email", target.email)):
            if address:
                intents.append(Intent(key=f"{base}:{stage_key}:{channel}", channel=channel,
                                      recipient=address, template=template, context=context,
                                      ticket_id=ticket.id, urgent=True))
    return intents


def _records_of(session: Session, day: date, clock_ids: list[int]) -> dict:
    if not clock_ids:
        return {}
    rows = session.scalars(select(AuditRecord).where(AuditRecord.day == day,
                                                     AuditRecord.clock_id.in_(clock_ids)))
    return {(r.clock_id, r.stage): r for r in rows}


def _record(session: Session, records: dict, day: date, clock: TicketClock, verdict: Assessment,
            person: Person | None, now: datetime) -> None:
    """One statistics row per clock, stage and day: a re-run updates it, never duplicates it."""
    row = records.get((clock.id, verdict.stage))
    if row is None:
        ticket = clock.ticket
        row = AuditRecord(
            day=day, clock_id=clock.id, stage=verdict.stage, ticket_number=ticket.number,
            ticket_type=ticket.type.label, clock_label=clock.label, content=ticket.content,
            due_at=clock.due_at, department=person.department if person else "",
            responsible=person.name if person else "", first_seen_at=now,
            responsible_phone=(person.phone or "") if person else "")
        records[(clock.id, verdict.stage)] = row
        session.add(row)
    row.escalation, row.last_seen_at, row.due_at = verdict.escalation, now, clock.due_at


@dataclass(frozen=True)
class ClockCheck:
    audit_time: datetime
    skew_seconds: float
    trusted_machine: bool


def check_clock(session: Session, *, machine_now: datetime, policy: AuditPolicy,
                timezone: str) -> ClockCheck:
    """Seed 000's first step: compare our clock with the database's; beyond the allowed skew, tell
    the admins (once an hour) and audit by the database's time."""
    db_now = database_now(session)
    skew = (machine_now - db_now).total_seconds()
    if abs(skew) <= policy.max_clock_skew_seconds:
        return ClockCheck(machine_now, skew, True)
    context = {"skew": span_text(timedelta(seconds=abs(skew))) if abs(skew) >= 60
               else f"{abs(skew):.0f}秒", "database_time": db_now}
    hour = pendulum.instance(db_now).in_timezone(timezone).format("YYYYMMDDHH")
    admins = session.scalars(select(Staff).where(Staff.role == StaffRole.admin)).all()
    enqueue_many(session, [
        Intent(key=f"audit:clock-skew:{hour}:{admin.id}:{channel}", channel=channel,
               recipient=address, template="clock_skew", context=context, urgent=True)
        for admin in admins for channel, address in (("sms", admin.phone), ("email", admin.email))
        if address], now=db_now, timezone=timezone)
    return ClockCheck(db_now, skew, False)


def audit_due(*, now: datetime, policy: AuditPolicy, timezone: str, batch_size: int = 1000,
              database_url: str | None = None) -> Counter:
    """Audit every clock whose time has come, a batch per transaction: a crash loses at most the
    batch in hand, which the next run redoes without doubling a message (keys are idempotent)."""
    totals: Counter = Counter()
    while True:
        with session_scope(database_url) as session:
            clocks = due_clocks(session, now=now, policy=policy, limit=batch_size)
            totals += audit_clocks(session, clocks, now=now, policy=policy, timezone=timezone)
        totals["checked"] += len(clocks)
        if len(clocks) < batch_size:
            return totals
