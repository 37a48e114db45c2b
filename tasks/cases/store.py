"""A case's writes, as the ticket's (tasks/tickets/lifecycle_store.py): each step row with its
timeline entry and its subject's transition in one transaction keyed by (case, step, attempt), so a
re-run finds the row and repeats nothing; completion is compare-and-set, so of two at once (two
people, a person and a lapse, two lapse audits) exactly one wins."""

from datetime import datetime

import pendulum
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from models.cases.case import CLOSED, OPEN, Case
from models.cases.lifecycle import OPENER, CaseSpec, CaseStepSpec
from models.core.enums import StepStatus
from models.core.errors import InputError
from models.org.organisation import Department, Staff
from models.tickets.calendar import WorkCalendar
from models.tickets.lifecycle import DONE, HUMAN_KINDS, StepKind, Walk
from models.tickets.ticket import Event, Step
from tasks.cases.subjects import subject_of
from tasks.core.settings import get_settings
from tasks.tickets.lifecycle_store import (
    SYSTEM,
    RunNeed,
    StepNotOpen,
    find_department,
    outcome_of,
    resolve_department,
)


def get_case(session: Session, number: str) -> Case:
    case = session.scalars(select(Case).where(Case.number == number).options(
        selectinload(Case.steps), selectinload(Case.events))).first()
    if case is None:
        raise InputError("number", "流程单不存在", f"no case numbered {number!r}")
    return case


def case_number(session: Session, kind: str, now: datetime) -> str:
    """The adapter's letters, the local date and the day's sequence: SP202612010001."""
    stem = subject_of(kind).prefix + pendulum.instance(now).in_timezone(
        get_settings().timezone).format("YYYYMMDD")
    taken = session.scalar(select(func.count()).where(Case.number.like(f"{stem}%")))
    return f"{stem}{taken + 1:04d}"


def open_case(session: Session, kind: str, ref_id: int, region_id: int, title: str, *,
              opened_by: Staff | None, now: datetime) -> Case:
    case = Case(number=case_number(session, kind, now), kind=kind, ref_id=ref_id,
                region_id=region_id, title=title, status=OPEN, opened_at=now,
                opened_by_id=opened_by.id if opened_by else None)
    session.add(case)
    session.flush()
    session.add(Event(case_id=case.id, at=now, kind="case_opened",
                      actor=opened_by.name if opened_by else SYSTEM, actor_id=case.opened_by_id,
                      message=f"{title}：已发起"))
    session.flush()
    return case


def open_case_of(session: Session, kind: str, ref_id: int) -> Case | None:
    """The subject's open case of that kind, if any."""
    return session.scalar(select(Case).where(Case.kind == kind, Case.ref_id == ref_id,
                                             Case.status != CLOSED).order_by(Case.id.desc()))


def find_case(session: Session, number: str) -> Case | None:
    return session.scalar(select(Case).where(Case.number == number))


def find_case_step(session: Session, case: Case, key: str, attempt: int) -> Step | None:
    return session.scalar(select(Step).where(
        Step.case_id == case.id, Step.step_key == key, Step.attempt == attempt))


def _holder(session: Session, case: Case, step: CaseStepSpec,
            walk: Walk) -> tuple[Department, Staff | None]:
    """Whom the step goes to: its `assignee` (in that person's department unless `to` names
    one), else the department of kind `to` in the case's unit chain."""
    chosen = walk.chosen_department.get(step.key)
    if chosen:
        return find_department(session, chosen), None
    person = None
    if step.assignee == OPENER:
        person = case.opened_by
    elif step.assignee is not None:
        finder = subject_of(case.kind).person
        person = finder(session, case, step.assignee) if finder else None
    if step.assignee is not None and person is None:
        raise LookupError(f"case {case.number}: no one is {step.assignee!r}")
    if step.to is None:
        return person.department, person
    department, assignee = resolve_department(session, case.region, step.to)
    return department, person or assignee


def enter_case_step(session: Session, case: Case, walk: Walk, step: CaseStepSpec, attempt: int,
                    now: datetime, calendar: WorkCalendar) -> Step:
    """The step's row, written once: open for a person (due when its lapse window ends), done at
    once for the system; its entry `status:` goes to the subject."""
    existing = find_case_step(session, case, step.key, attempt)
    if existing is not None:
        return existing
    if step.kind in HUMAN_KINDS:
        department, assignee = _holder(session, case, step, walk)
        due = _lapse_due(session, case, step, now, calendar)
        row = Step(case_id=case.id, step_key=step.key, attempt=attempt, form=step.form,
                   department_id=department.id, assignee_id=assignee.id if assignee else None,
                   status=StepStatus.open, opened_at=now, due_at=due)
        message = f"{walk.note}{step.title}：派至{department.name}" \
                  + (f"（{assignee.name}）" if assignee else "")
        kind = "step_opened"
    else:
        row = Step(case_id=case.id, step_key=step.key, attempt=attempt, status=StepStatus.done,
                   opened_at=now, completed_at=now, form_data={"result": DONE})
        message, kind = f"{walk.note}{step.title}", step.kind.value
    savepoint = session.begin_nested()
    session.add(row)
    try:
        savepoint.commit()
    except IntegrityError:  # another run of the same case got there first
        savepoint.rollback()
        return find_case_step(session, case, step.key, attempt)
    if step.kind == StepKind.close:
        case.status, case.closed_at = CLOSED, now
    _to_subject(session, case, step.entry_status(), None, {}, now)
    session.add(Event(case_id=case.id, at=now, kind=kind, actor=SYSTEM, message=message,
                      detail={"step": step.key, "attempt": attempt}))
    session.flush()
    return row


def _lapse_due(session: Session, case: Case, step: CaseStepSpec, now: datetime,
               calendar: WorkCalendar) -> datetime | None:
    """When the step's lapse window ends: the subject's own time if it fixes one, else the
    page's working days from now."""
    if step.lapse is None:
        return None
    fixed = subject_of(case.kind).due
    return (fixed and fixed(session, case, step.key)) or calendar.add_working_days(
        now, step.lapse.working_days)


def _to_subject(session: Session, case: Case, status: str | None, by: Staff | None,
                data: dict, now: datetime) -> None:
    if status is None:
        return
    transition = subject_of(case.kind).transition
    if transition is None:
        raise LookupError(f"the {case.kind} subject has no transition for status {status!r}")
    transition(session, case, status, by, data, now)
    case.status = status if case.status != CLOSED else case.status


def refuse_same_person(session: Session, case: Case, step: CaseStepSpec, by: Staff | None) -> None:
    """`not_by`: whoever completed that earlier step may not complete this one."""
    if step.not_by is None or by is None:
        return
    earlier = session.scalars(select(Step.completed_by_id).where(
        Step.case_id == case.id, Step.step_key == step.not_by, Step.status != StepStatus.open))
    if by.id in set(earlier):
        raise InputError("by", f"{by.name}已办理本流程的前一环节，不能再办理此环节，请由他人办理",
                         f"{by.code} completed {step.not_by!r}: someone else completes "
                         f"{step.key!r}")


def complete_case(session: Session, case: Case, spec: CaseSpec, row: Step, data: dict, *,
                  by: Staff | None, now: datetime, actor: str | None = None) -> str:
    """Record a filled form on an open case step; the outcome's `status:` goes to the subject
    first (its refusal writes nothing). By None: `actor` (the system at a lapse), else the Prefect
    UI's form."""
    step = spec.step(row.step_key)
    refuse_same_person(session, case, step, by)
    outcome = data.get("result", DONE)
    _to_subject(session, case, step.outcome_status(outcome), by, data, now)
    won = session.execute(
        update(Step).where(Step.id == row.id, Step.status == StepStatus.open)
        .values(status=StepStatus.done, completed_at=now, form_data=data,
                completed_by_id=by.id if by else None)
        .execution_options(synchronize_session=False)).rowcount == 1
    if not won:
        raise StepNotOpen(row)
    session.refresh(row)
    text = data.get("reason") or data.get("note") or data.get("opinion") or ""
    actor = by.name if by else actor or "Prefect 界面"
    session.add(Event(
        case_id=case.id, at=now, kind="step_done", actor_id=by.id if by else None, actor=actor,
        message=f"{step.title}：{'' if outcome == DONE else outcome}"
                f"{'，' if text and outcome != DONE else ''}{text}",
        detail={"step": step.key, "attempt": row.attempt, "outcome": outcome}))
    session.flush()
    return outcome_of(row)


def lapsed_steps(session: Session, now: datetime) -> list[tuple[str, str]]:
    """(case number, step key) of the open case steps whose lapse window has ended."""
    return list(session.execute(
        select(Case.number, Step.step_key).join(Step, Step.case_id == Case.id)
        .where(Step.status == StepStatus.open, Step.due_at <= now).order_by(Step.due_at)))


def open_cases_needing_runs(session: Session) -> list[RunNeed]:
    """Open cases, which have or should have a run."""
    return [RunNeed(number, run_id, False, case=True) for number, run_id in session.execute(
        select(Case.number, Case.flow_run_id).where(Case.status != CLOSED).order_by(Case.id))]


def case_inbox(session: Session, department_id: int) -> list[tuple[Case, Step]]:
    """The department's open case steps, soonest due first: the inbox's 内部流程."""
    return list(session.execute(
        select(Case, Step).join(Step, Step.case_id == Case.id)
        .where(Step.department_id == department_id, Step.status == StepStatus.open)
        .order_by(Step.due_at.asc().nulls_last(), Step.id)).tuples())
