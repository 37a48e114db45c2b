"""The deadline audit's work: check the clock, read the clocks whose time has come, queue reminders
through the outbox, keep the day's statistics rows, and schedule each clock's next look."""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pendulum
from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.orm import Session, joinedload

from models.audit.assessment import Assessment, AuditPolicy, AuditRecord, AuditStage, assess
from models.core.enums import OPEN_STATUSES, DepartmentKind, StaffRole, StepStatus
from models.core.formatting import span_text
from models.org.organisation import Region, Staff
from models.tickets.ticket import Step, Ticket, TicketClock
from tasks.core.db import session_scope
from tasks.integrations import webhooks
from tasks.messaging.outbox import Intent, enqueue_many, messages_to
from tasks.org.units import department_heads


def database_now(session: Session) -> datetime:
    """The database server's clock: the one every writer shares."""
    value = session.execute(select(func.current_timestamp())).scalar_one()
    if isinstance(value, str):  # SQLite answers text, in UTC
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The columns the audit reads of a due clock and its ticket: plain rows, not ORM objects, because
# an audit handles thousands of them and builds nothing else from them.
DUE_COLUMNS = (
    TicketClock.id, TicketClock.ticket_id, TicketClock.label, TicketClock.due_at,
    TicketClock.met_at, TicketClock.warn_minutes, Ticket.number, Ticket.type, Ticket.content,
    Ticket.status, Ticket.caller_phone, Ticket.address, Ticket.responsible_name,
    Ticket.responsible_phone, Ticket.region_id,
)


def due_clocks(session: Session, *, now: datetime, policy: AuditPolicy, limit: int) -> list[Row]:
    """Clocks whose next check has come: an index range scan on next_check_at."""
    return list(session.execute(
        select(*DUE_COLUMNS).join(Ticket, Ticket.id == TicketClock.ticket_id)
        .where(TicketClock.next_check_at <= now, Ticket.type.in_(policy.target_types))
        .order_by(TicketClock.next_check_at, TicketClock.id)
        .limit(limit)
    ))


@dataclass(frozen=True)
class Person:
    name: str
    phone: str | None
    email: str | None
    department: str


OpenSteps = dict[int, tuple[int | None, int | None]]  # ticket id: (assignee id, department id)


def open_steps(session: Session, ticket_ids: list[int]) -> OpenSteps:
    """The open step of each ticket of a batch: who holds it now."""
    found: OpenSteps = {}
    for start in range(0, len(ticket_ids), 500):
        for ticket_id, assignee_id, department_id in session.execute(
                select(Step.ticket_id, Step.assignee_id, Step.department_id)
                .where(Step.ticket_id.in_(ticket_ids[start:start + 500]),
                       Step.status == StepStatus.open)
                .order_by(Step.opened_at, Step.id)):
            found[ticket_id] = (assignee_id, department_id)  # the latest one wins
    return found


class Responsibility:
    """Who answers for a ticket's deadline: the assignee of its open step, else the head of that
    step's department; for a ticket watched from the marketing system, the person it names. Each
    person's supervisor, and the centre's duty manager, hear of escalations. The staff are read
    once per audit, not once per batch."""

    def __init__(self, session: Session):
        staff = session.scalars(select(Staff).options(joinedload(Staff.department))).all()
        self.staff = {s.id: s for s in staff}
        self.heads = {department: self.staff[head]
                      for department, head in department_heads(session).items()}
        # Each centre's duty managers by the centre's region; a ticket's are its nearest centre's.
        self.parents = dict(session.execute(select(Region.id, Region.parent_id)).all())
        self.duty_at: dict[int, list[Person]] = {}
        for s in sorted(staff, key=lambda s: s.id):
            if s.role == StaffRole.supervisor and s.active \
                    and s.department.kind == DepartmentKind.service_centre:
                self.duty_at.setdefault(s.department.region_id, []).append(self.person(s))

    def duty(self, region_id: int | None) -> list[Person]:
        """The duty managers of the service centre nearest the region, going up."""
        while region_id is not None:
            if region_id in self.duty_at:
                return self.duty_at[region_id]
            region_id = self.parents.get(region_id)
        return []

    def person(self, staff: Staff) -> Person:
        return Person(staff.name, staff.phone, staff.email, staff.department.name)

    def responsible(self, clock: Row, steps: OpenSteps) -> tuple[Person | None, Person | None]:
        """(responsible person, their supervisor)."""
        assignee_id, department_id = steps.get(clock.ticket_id, (None, None))
        staff = self.staff.get(assignee_id) or self.heads.get(department_id)
        if staff is not None:
            boss = self.staff.get(staff.supervisor_id)
            return self.person(staff), self.person(boss) if boss else None
        if clock.responsible_phone:
            return Person(clock.responsible_name or "", clock.responsible_phone, None, ""), None
        return None, None


def audit_clocks(session: Session, clocks: list[Row], *, now: datetime, policy: AuditPolicy,
                 timezone: str, who: Responsibility) -> Counter:
    """Assess each clock, queue what must be said, record the day's rows, schedule the next look."""
    counts: Counter = Counter()
    live = [c for c in clocks if c.met_at is None and c.status in OPEN_STATUSES]
    next_checks = [{"b_clock": c.id, "b_next": None} for c in clocks
                   if c.met_at is not None or c.status not in OPEN_STATUSES]  # nothing to chase
    steps = open_steps(session, list({c.ticket_id for c in live}))
    day = pendulum.instance(now).in_timezone(timezone).date()
    records = Records(session, day, [c.id for c in live])
    intents: list[Intent] = []
    for clock in live:
        verdict = assess(clock.due_at, timedelta(minutes=clock.warn_minutes), now, policy)
        next_checks.append({"b_clock": clock.id, "b_next": verdict.next_check_at})
        if verdict.stage is None:
            continue
        counts[verdict.stage.value] += 1
        person, boss = who.responsible(clock, steps)
        intents += _reminders(clock, verdict, now, person, boss, who.duty(clock.region_id))
        if verdict.stage == AuditStage.overdue:
            webhooks.clock_overdue(session, clock, verdict.repeat, now)
        records.note(clock, verdict, person, now)
    if next_checks:
        session.execute(
            update(TicketClock.__table__).where(TicketClock.__table__.c.id == bindparam("b_clock"))
            .values(next_check_at=bindparam("b_next")), next_checks)
    records.save()
    counts["queued"] += enqueue_many(session, intents, now=now, timezone=timezone)
    return counts


def _reminders(clock: Row, verdict: Assessment, now: datetime, person: Person | None,
               boss: Person | None, duty: list[Person]) -> list[Intent]:
    context = {
        "ticket_no": clock.number, "ticket_type": clock.type.label, "content": clock.content,
        "deadline": clock.due_at, "customer_phone": clock.caller_phone, "address": clock.address,
        "time_left": span_text(clock.due_at - now), "overdue_by": span_text(now - clock.due_at),
        "department": person.department if person else "",
        "responsible": person.name if person else "未指定",
    }
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
    return [intent for target, stage_key, template in plan if target is not None
            for intent in messages_to(target, key=f"audit:clock:{clock.id}:{stage_key}",
                                      template=template, context=context,
                                      ticket_id=clock.ticket_id, urgent=True)]


class Records:
    """The day's statistics rows of a batch: one per clock, stage and day; a re-run updates the
    row it finds instead of adding another."""

    def __init__(self, session: Session, day: date, clock_ids: list[int]):
        self.session, self.day = session, day
        table = AuditRecord.__table__
        self.existing: set[tuple[int, str]] = set()
        for start in range(0, len(clock_ids), 500):
            self.existing |= {(r.clock_id, r.stage) for r in session.execute(
                select(table.c.clock_id, table.c.stage).where(
                    table.c.day == day, table.c.clock_id.in_(clock_ids[start:start + 500])))}
        self.new: list[dict] = []
        self.seen: list[dict] = []

    def note(self, clock: Row, verdict: Assessment, person: Person | None, now: datetime) -> None:
        if (clock.id, verdict.stage) in self.existing:
            self.seen.append({"b_clock": clock.id, "b_stage": verdict.stage, "b_seen": now,
                              "b_escalation": verdict.escalation, "b_due": clock.due_at})
            return
        self.new.append(dict(
            day=self.day, clock_id=clock.id, stage=verdict.stage, ticket_number=clock.number,
            ticket_type=clock.type.label, clock_label=clock.label, content=clock.content,
            due_at=clock.due_at, department=person.department if person else "",
            responsible=person.name if person else "",
            responsible_phone=(person.phone or "") if person else "",
            escalation=verdict.escalation, first_seen_at=now, last_seen_at=now))

    def save(self) -> None:
        table = AuditRecord.__table__
        if self.new:
            self.session.execute(insert(table), self.new)
        if self.seen:
            self.session.execute(
                update(table).where(table.c.day == self.day,
                                    table.c.clock_id == bindparam("b_clock"),
                                    table.c.stage == bindparam("b_stage"))
                .values(last_seen_at=bindparam("b_seen"), escalation=bindparam("b_escalation"),
                        due_at=bindparam("b_due")),
                self.seen)


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
        intent for admin in admins
        for intent in messages_to(admin, key=f"audit:clock-skew:{hour}:{admin.id}",
                                  template="clock_skew", context=context, urgent=True)],
        now=db_now, timezone=timezone)
    return ClockCheck(db_now, skew, False)


def audit_due(*, now: datetime, policy: AuditPolicy, timezone: str, batch_size: int = 1000,
              database_url: str | None = None) -> Counter:
    """Audit every clock whose time has come, a batch per transaction: a crash loses at most the
    batch in hand, which the next run redoes without doubling a message (keys are idempotent)."""
    totals: Counter = Counter()
    who: Responsibility | None = None
    while True:
        with session_scope(database_url) as session:
            who = who or Responsibility(session)
            clocks = due_clocks(session, now=now, policy=policy, limit=batch_size)
            totals += audit_clocks(session, clocks, now=now, policy=policy, timezone=timezone,
                                   who=who)
        totals["checked"] += len(clocks)
        if len(clocks) < batch_size:
            return totals
