"""The generic lifecycle: one flow run per ticket, walking its type's declaration.

Human steps record an open step row and suspend the run (the process exits). Resuming re-runs the
flow from the top: the walk is rebuilt from the step rows, so every step already done is recognised
and skipped, and nothing it did (timeline, messages) happens twice.
"""

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pendulum
from prefect import flow, get_run_logger
from prefect.deployments import run_deployment
from prefect.exceptions import Pause
from prefect.flow_runs import suspend_flow_run
from prefect.input.run_input import run_input_subclass_from_type
from prefect.runtime import flow_run
from prefect.settings import PREFECT_API_URL
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from flows.story import Story
from models.core.enums import TicketType
from models.core.errors import InputError, StepFormError, field_messages
from models.core.formatting import local_time
from models.tickets.lifecycle import (
    HUMAN_KINDS,
    Declaration,
    LifecycleSpec,
    References,
    StepKind,
    StepSpec,
    Walk,
    load_lifecycles,
)
from models.tickets.ticket import Event, Step, Ticket
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.tickets.lifecycle_store import (
    SYSTEM,
    StepNotOpen,
    acknowledge,
    complete,
    enter_step,
    find_step,
    lifecycle_references,
    outcome_of,
    resolve_department,
)
from tasks.tickets.lifecycle_versions import pin, ticket_lifecycle
from tasks.tickets.step_forms import check_filled, step_model
from tasks.tickets.store import get_ticket


def lifecycles(session: Session | None = None) -> dict[TicketType, LifecycleSpec]:
    """The declarations in force (GRIDLINE_LIFECYCLES_DIR), checked against the deadline rules
    and the templates; read again when one of them or a file of the folder changed."""
    if session is None:
        with session_scope() as own:
            return lifecycles(own)
    folder = get_settings().lifecycles_dir
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                  for p in sorted(folder.glob("*.yaml")))
    return _load(folder, lifecycle_references(session), stamp)


@cache
def _load(folder: Path, refs: References, stamp: tuple) -> dict[TicketType, LifecycleSpec]:
    return load_lifecycles(folder, refs)


def lifecycle_of(session: Session, ticket: Ticket) -> LifecycleSpec:
    """The declaration the ticket runs on: the version it started with (see lifecycle_versions)."""
    return ticket_lifecycle(session, ticket, lifecycles(session)[ticket.type])


@flow(name="lifecycle", persist_result=True)
def lifecycle(ticket_number: str) -> str:
    """Walk the ticket through its declaration until it is closed or waits for someone; whom the
    page tells at the start is told before the first person's step (or the close), once."""
    with session_scope() as session:
        ticket = get_ticket(session, ticket_number)
        spec = pin(session, ticket, lifecycles(session)[ticket.type])
    walk, told, story = Walk(spec, tries=get_settings().callback.tries), False, Story()
    while walk.key is not None:
        step, attempt = walk.enter()
        if not told and (step.kind in HUMAN_KINDS or step.kind == StepKind.close):
            with session_scope() as session:
                acknowledge(session, get_ticket(session, ticket_number), spec, pendulum.now("UTC"))
            told = True
        if walk.retrying and call_again_later(ticket_number, step, attempt):
            return "retry scheduled"
        outcome, data = run_step(ticket_holder(ticket_number), walk, step, attempt, story)
        walk.leave(step, outcome, data)
    return "closed"


def call_again_later(number: str, step: StepSpec, attempt: int) -> bool:
    """A step tried again (the customer not reached) opens one interval after the last try: until
    then this run ends, and a run of the ticket is scheduled for that time. False when it is time."""
    policy = get_settings().callback
    with session_scope() as session:
        ticket = get_ticket(session, number)
        last = find_step(session, ticket, step.key, attempt - 1)
        if find_step(session, ticket, step.key, attempt) is not None or last is None:
            return False
        wake = pendulum.instance(last.completed_at).add(minutes=policy.retry_minutes)
        if wake <= pendulum.now("UTC"):
            return False
        if retry_scheduled(session, ticket, step.key, attempt):
            if ticket.flow_run_id != str(flow_run.id):
                return True  # this point ran before (a run restarted): the retry is scheduled
            early = (wake - pendulum.now("UTC")).total_seconds()
        else:
            early = None
    if early is not None:  # the scheduled retry, started a little early by the worker's prefetch
        time.sleep(max(0.0, early))
        return False
    with session_scope() as session:
        ticket = get_ticket(session, number)
        ticket.flow_run_id = start_lifecycle(session, ticket, at=wake)
        session.add(Event(ticket_id=ticket.id, at=pendulum.now("UTC"), kind="retry_scheduled",
                          actor=SYSTEM, message=f"{step.title}：第{attempt - 1}次未联系上，"
                          f"将于{local_time(wake, get_settings().timezone)}第{attempt}次{step.title}",
                          detail={"step": step.key, "attempt": attempt,
                                  "run": ticket.flow_run_id}))
    get_run_logger().info("第%d次%s安排在 %s", attempt, step.title, wake.isoformat())
    return True


def retry_scheduled(session: Session, ticket: Ticket, key: str, attempt: int) -> bool:
    return any(e.kind == "retry_scheduled" and (e.detail or {}).get("step") == key
               and (e.detail or {}).get("attempt") == attempt for e in ticket.events)


@dataclass(frozen=True)
class Holder:
    """What running a step needs of the run's subject, a ticket or a case (flows/cases.py):
    load it, find a step row, enter one, describe it above the Prefect UI's form, record a
    filled form as done."""

    number: str
    load: Callable[[Session, str], Any]
    find: Callable[[Session, Any, str, int], Step | None]
    enter: Callable[..., Step]  # (session, subject, walk, step, attempt, now)
    describe: Callable[[Session, Any, Any, Step], str]  # (session, subject, step, row)
    finish: Callable[..., str]  # (session, subject, spec, row, data, *, by, now)


def run_step(holder: Holder, walk: Walk, step: StepSpec, attempt: int,
             story: Story) -> tuple[str, dict]:
    """One step of the run, a ticket's or a case's: its row entered once (or found, on a re-run
    or resume), then passed if done, else waited at."""
    now = pendulum.now("UTC")
    with session_scope() as session:
        subject = holder.load(session, holder.number)
        row = found = holder.find(session, subject, step.key, attempt)
        row = row or holder.enter(session, subject, walk, step, attempt, now)
        story.passed(subject, walk.spec, step, row, created=found is None)
        if row.status != "open":
            return outcome_of(row), row.form_data or {}
        description = holder.describe(session, subject, step, row)
        model = step_model(session, walk.spec, row)
    return wait_for(holder, walk.spec, step, attempt, description, model, story)


def ticket_holder(number: str) -> Holder:
    return Holder(number, get_ticket, find_step, enter_step,
                  lambda _session, ticket, step, row: describe(ticket, step, row), complete)


def wait_for(holder: Holder, spec: Declaration, step: StepSpec, attempt: int,
             description: str, model: type[BaseModel], story: Story) -> tuple[str, dict]:
    """Suspend until the step is completed; the run exits here and re-runs from the top.

    Reached past a suspend only when an admin resumed the run from the Prefect UI: the input is
    checked as the portal checks it; a refused one suspends the run again (a new key, so the
    re-run passes the old ones by), with the reason in the run's log and above the form."""
    refused: list[str] = []
    for retry in itertools.count():
        try:
            filled = _suspend(model, step, attempt, retry, description, refused)
        except ValidationError as exc:  # what the schema let through, the form's model refuses
            refused.append(StepFormError(field_messages(exc, model)).zh)
            continue
        with session_scope() as session:
            subject = holder.load(session, holder.number)
            row = holder.find(session, subject, step.key, attempt)
            if row.status != "open":  # completed in the portal or the CLI meanwhile
                return outcome_of(row), row.form_data
            try:
                with session.begin_nested():  # a refusal writes nothing
                    data = check_filled(session, spec, row, filled.model_dump(mode="json"),
                                        pendulum.now("UTC"))
                    holder.finish(session, subject, spec, row, data, by=None,
                                  now=pendulum.now("UTC"))
            except StepNotOpen:  # lost to a submission a moment before: that one stands
                session.refresh(row)
                return outcome_of(row), row.form_data
            except InputError as exc:  # the form's check, or the subject's rule
                refused.append(exc.zh)
                continue
            story.completed(step, row)
            return outcome_of(row), row.form_data


def _suspend(model: type[BaseModel], step: StepSpec, attempt: int, retry: int, description: str,
             refused: list[str]):
    """The run's wait for the step's form; past inputs come back at once on a re-run."""
    if refused:
        description = f"> 上次提交未通过校验：{refused[-1]}\n\n{description}"
    form = run_input_subclass_from_type(model).with_initial_data(
        description=description)
    key = f"{step.key}-{attempt}" + (f"-{retry}" if retry else "")
    try:
        return suspend_flow_run(wait_for_input=form, key=key,
                                timeout=get_settings().step_wait_days * 86400)
    except Pause:  # a fresh wait: say once why the last input was refused
        if refused:
            get_run_logger().warning("Prefect 界面提交的“%s”表单未通过校验：%s；流程已重新挂起，"
                                     "等待有效的输入", step.title, refused[-1])
        raise


def describe(ticket: Ticket, step: StepSpec, row: Step) -> str:
    """The Markdown the Prefect UI shows above the step's form."""
    due = local_time(row.due_at, get_settings().timezone) or "—"
    return (f"**{step.title}** · 工单 {ticket.number}（{ticket.type.label}）\n\n"
            f"- 处理部门：{row.department.name if row.department else '—'}\n"
            f"- 期限：{due}\n- 地址：{ticket.address}\n- 内容：{ticket.content}\n")


def first_department(session, ticket: Ticket) -> str:
    """The department a new ticket goes to first, for its run's tags."""
    spec = lifecycles(session)[ticket.type]
    step = next((s for s in spec.steps if s.kind == StepKind.handoff),
                next(s for s in spec.steps if s.to is not None))
    return resolve_department(session, ticket.region, step.to)[0].code


def start_lifecycle(session, ticket: Ticket, at: datetime | None = None) -> str:
    """Start the ticket's run on its type's deployment (now, or scheduled `at`): named by the
    number, tagged for filtering."""
    run = run_deployment(
        name=f"lifecycle/{ticket.type.value}", parameters={"ticket_number": ticket.number},
        flow_run_name=ticket.number, timeout=0, as_subflow=False, scheduled_time=at,
        tags=[f"type:{ticket.type.value}", f"region:{ticket.region.code}",
              f"department:{first_department(session, ticket)}"])
    return str(run.id)


def prefect_api_configured() -> bool:
    """A Prefect server to start runs on (without one, Prefect would start a throwaway one)."""
    return bool(PREFECT_API_URL.value())


def wants_run(start: bool | None) -> bool:
    """--start/--no-start as given, else: start a run when there is a server to start it on."""
    return prefect_api_configured() if start is None else start
