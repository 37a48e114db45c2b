"""The lifecycle's writes: each step row, with its timeline entry, ticket status and messages, in
one transaction keyed by (ticket, step, attempt), so a re-run finds the row and repeats nothing."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

import pendulum
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.core.enums import OPEN_STATUSES, DepartmentKind, StaffRole, StepStatus
from models.core.errors import InputError
from models.core.formatting import local_time
from models.messaging.outbox import OutboxMessage
from models.org.organisation import Department, Region, Staff
from models.tickets.faults import known_detail
from models.tickets.lifecycle import (
    DONE,
    HUMAN_KINDS,
    Checks,
    LifecycleSpec,
    References,
    StepKind,
    StepSpec,
    Walk,
)
from models.tickets.links import LinkKind
from models.tickets.ticket import Event, Step, Ticket, TicketClock
from tasks.core.settings import get_settings
from tasks.integrations import webhooks
from tasks.messaging.notify import notify
from tasks.messaging.templates import template_names
from tasks.org.units import first_staff, nearest_department
from tasks.statistics.rollup import mark_stale
from tasks.tickets.clocks import RECORDED_AT, meet_clocks, start_step_clock
from tasks.tickets.faults import find_known, meet_linked
from tasks.tickets.links import link, master_of, propagate_reply, refuse_close_over_open_members
from tasks.tickets.marketing_import import SOURCE as MARKETING_SOURCE
from tasks.tickets.rule_store import rule_clocks

SYSTEM = "系统"


class StepNotOpen(InputError):
    """The step was completed by someone else a moment before: the later submission loses."""

    def __init__(self, step: Step):
        super().__init__("step", f"环节 {step.step_key} 已由他人办结，无需重复提交",
                         f"step {step.step_key!r} was completed by someone else a moment ago")


def lifecycle_references(session: Session) -> References:
    """What the pages may name: the clocks of the deadline rules in the database (the default
    set's while it holds none) and the message templates."""
    return References(clocks=rule_clocks(session), templates=template_names())


def acknowledge(session: Session, ticket: Ticket, lifecycle: LifecycleSpec, now: datetime) -> None:
    """Tell whom the page tells at the start (the customer's receipt, with the number and the
    promised deadline), once however often the run starts again; not when a step before told the
    customer already (a known fault's notice names the caller's number: one message, not two)."""
    told = session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.ticket_id == ticket.id, OutboxMessage.to_customer.is_(True)).limit(1))
    if told is None:
        notify(session, ticket, None, lifecycle.notify.get("start", []), "start", now)


def outcome_of(step: Step) -> str:
    return (step.form_data or {}).get("result", DONE)


def find_step(session: Session, ticket: Ticket, key: str, attempt: int) -> Step | None:
    return session.scalar(select(Step).where(
        Step.ticket_id == ticket.id, Step.step_key == key, Step.attempt == attempt))


def resolve_department(session: Session, region: Region,
                       to: DepartmentKind | str) -> tuple[Department, Staff | None]:
    """The nearest department of that kind, from the ticket's region up; "supervisor" is the duty
    supervisor of the service centre. Without one, the centre takes it (and may re-dispatch)."""
    kind = DepartmentKind.service_centre if to == "supervisor" else DepartmentKind(to)
    department = nearest_department(session, region, kind) or nearest_department(
        session, region, DepartmentKind.service_centre)
    if department is None:
        raise LookupError(f"no {kind.value} department nor service centre for region {region.code}")
    assignee = first_staff(session, department.id, StaffRole.supervisor) \
        if to == "supervisor" else None
    return department, assignee


def find_department(session: Session, code: str) -> Department | None:
    return session.scalar(select(Department).where(Department.code == code))


def open_step(session: Session, ticket: Ticket, spec: StepSpec, attempt: int, *,
              department: Department, assignee: Staff | None, now: datetime,
              note: str = "") -> Step:
    """The open row of a human step (created once): department, due time, status, messages."""
    existing = find_step(session, ticket, spec.key, attempt)
    if existing is not None:
        return existing
    due = start_step_clock(session, ticket, spec.clock, now) \
        or next((c.due_at for c in ticket.clocks if c.clock == spec.clock), None)
    step = Step(ticket_id=ticket.id, step_key=spec.key, attempt=attempt, form=spec.form,
                department_id=department.id, assignee_id=assignee.id if assignee else None,
                status=StepStatus.open, opened_at=now, due_at=due)
    return _insert(session, ticket, step, spec, now, kind="step_opened",
                   message=f"{note}{spec.title}：派至{department.name}"
                           + (f"（{assignee.name}）" if assignee else ""))


def enter_step(session: Session, ticket: Ticket, walk: Walk, step: StepSpec, attempt: int,
               now: datetime, pick: Callable[[Department], Staff | None] | None = None) -> Step:
    """The step's row, written now: open for a person (the department a re-dispatch chose, else
    the declaration's; `pick` names a person where the rule names none), done for the system."""
    if step.kind in HUMAN_KINDS:
        chosen = walk.chosen_department.get(step.key)
        department, assignee = (find_department(session, chosen), None) if chosen \
            else resolve_department(session, ticket.region, step.to)
        if assignee is None and pick is not None:
            assignee = pick(department)
        return open_step(session, ticket, step, attempt, department=department,
                         assignee=assignee, now=now, note=walk.note)
    if step.kind == StepKind.branch and step.check == Checks.known_fault:
        outage, known = find_known(session, ticket)
        ticket.outage_id = outage.id if outage else None
        if known is not None and master_of(session, ticket.id) is None:
            link(session, known, ticket, LinkKind.same_problem, by=SYSTEM, now=now)
        detail, message = known_detail(outage, known, get_settings().timezone)
        return record_system_step(session, ticket, step, attempt,
                                  outcome="known" if outage or known else "unknown",
                                  detail=detail, message=message, now=now, note=walk.note)
    message = {StepKind.notify: "已通知", StepKind.close: "工单办结归档"}[step.kind]
    return record_system_step(session, ticket, step, attempt, outcome=DONE, detail={},
                              message=message, now=now, note=walk.note)


def record_system_step(session: Session, ticket: Ticket, spec: StepSpec, attempt: int, *,
                       outcome: str, detail: dict[str, Any], message: str, now: datetime,
                       note: str = "") -> Step:
    """A step no one fills (check, notice, close), recorded as done once."""
    existing = find_step(session, ticket, spec.key, attempt)
    if existing is not None:
        return existing
    step = Step(ticket_id=ticket.id, step_key=spec.key, attempt=attempt, status=StepStatus.done,
                opened_at=now, completed_at=now, form_data={"result": outcome, **detail})
    if spec.kind == StepKind.close:
        ticket.closed_at = now
        meet_linked(session, ticket, now, SYSTEM)
    return _insert(session, ticket, step, spec, now, kind=spec.kind.value,
                   message=f"{note}{spec.title}：{message}", detail=detail)


def _insert(session: Session, ticket: Ticket, step: Step, spec: StepSpec, now: datetime, *,
            kind: str, message: str, detail: dict | None = None) -> Step:
    savepoint = session.begin_nested()
    session.add(step)
    try:
        savepoint.commit()
    except IntegrityError:  # another run of the same ticket got there first
        savepoint.rollback()
        return find_step(session, ticket, step.step_key, step.attempt)
    ticket.status = spec.ticket_status()
    session.add(Event(ticket_id=ticket.id, at=now, kind=kind, actor=SYSTEM, message=message,
                      detail={"step": spec.key, "attempt": step.attempt, **(detail or {})}))
    notify(session, ticket, step, spec.notify.get("entry", []), "entry", now)
    webhooks.step_entered(session, ticket, step, closes=spec.kind == StepKind.close, now=now)
    session.flush()
    return step


def complete(session: Session, ticket: Ticket, lifecycle: LifecycleSpec, step: Step,
             data: dict[str, Any], *, by: Staff | None, now: datetime) -> str:
    """Record a filled form on an open step: who, when, what; met clocks; timeline; messages.

    Open -> done is compare-and-set: the UPDATE changes the row only while it is still open, so of
    two submissions at the same instant exactly one wins and the other gets StepNotOpen."""
    spec = lifecycle.step(step.step_key)
    transition = lifecycle.transition(spec, data.get("result", DONE))
    if transition is not None and transition.to in {s.key for s in lifecycle.steps} \
            and lifecycle.step(transition.to).kind == StepKind.close:
        refuse_close_over_open_members(session, ticket)
    returned = spec.kind == StepKind.handoff and transition is not None \
        and transition.to in {s.key for s in lifecycle.steps} \
        and lifecycle.step(transition.to).form == "redispatch"
    won = session.execute(
        update(Step).where(Step.id == step.id, Step.status == StepStatus.open)
        .values(status=StepStatus.returned if returned else StepStatus.done, completed_at=now,
                form_data=data,
                completed_by_id=by.id if by else None)
        .execution_options(synchronize_session=False)).rowcount == 1
    if not won:
        raise StepNotOpen(step)
    mark_stale(session, tickets=[step.ticket_id])
    session.refresh(step)
    outcome = outcome_of(step)
    recorded = data.get(RECORDED_AT.get(spec.form, ""))
    moved = meet_clocks(session, ticket, set(transition.meets) if transition else set(),
                        spec.clock, pendulum.parse(recorded) if recorded else now)
    text = data.get("reply_text") or data.get("note") or data.get("opinion") \
        or data.get("decision") or ""
    if recorded:
        title = lifecycle.forms[spec.form].fields[RECORDED_AT[spec.form]].title
        text = f"{text}（{title}{local_time(pendulum.parse(recorded), get_settings().timezone)}" \
               f"{'，' + moved if moved else ''}）"
    session.add(Event(
        ticket_id=ticket.id, at=now, kind="returned" if returned else "step_done",
        actor_id=by.id if by else None, actor=by.name if by else "Prefect 界面",
        message=f"{spec.title}：{'' if outcome == DONE else outcome}"
                f"{'，' if text and outcome != DONE else ''}{text}",
        detail={"step": spec.key, "attempt": step.attempt, "outcome": outcome}))
    notify(session, ticket, step, spec.notify.get("done", []), "done", now)
    webhooks.step_done(session, ticket, step, outcome, now)
    if data.get("reply_text"):  # a master's reply reaches its members
        propagate_reply(session, ticket, data["reply_text"], reply_id=step.id, now=now)
    session.flush()
    return outcome


class RunNeed(NamedTuple):
    number: str
    run_id: str | None
    late: bool  # a clock still running past its due time
    case: bool = False  # a case's (tasks/cases), not a ticket's


def open_tickets_needing_runs(session: Session, now: datetime) -> list[RunNeed]:
    """Open tickets that have, or should have, a lifecycle run: all but the marketing system's
    (imported to be audited, never walked)."""
    late = exists().where(TicketClock.ticket_id == Ticket.id, TicketClock.met_at.is_(None),
                          TicketClock.due_at < now)
    return [RunNeed(*row) for row in session.execute(
        select(Ticket.number, Ticket.flow_run_id, late)
        .where(Ticket.status.in_(OPEN_STATUSES), Ticket.source != MARKETING_SOURCE)
        .order_by(Ticket.id))]

