"""The generic lifecycle: one flow run per ticket, walking its type's declaration.

Human steps record an open step row and suspend the run (the process exits). Resuming re-runs the
flow from the top: the walk is rebuilt from the step rows, so every step already done is recognised
and skipped, and nothing it did (timeline, messages) happens twice.
"""

from datetime import datetime
from functools import cache
from pathlib import Path

import pendulum
from prefect import flow, get_run_logger
from prefect.deployments import run_deployment
from prefect.flow_runs import suspend_flow_run
from prefect.input.run_input import run_input_subclass_from_type
from prefect.settings import PREFECT_API_URL

from models.core.enums import TicketType
from models.core.formatting import local_time
from models.tickets.forms import FORMS
from models.tickets.lifecycle import (
    LifecycleSpec,
    StepKind,
    StepSpec,
    Walk,
    load_lifecycles,
)
from models.tickets.ticket import Step, Ticket
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.tickets.lifecycle_store import (
    complete,
    enter_step,
    find_step,
    outcome_of,
    resolve_department,
)
from tasks.tickets.store import get_ticket


def lifecycles() -> dict[TicketType, LifecycleSpec]:
    """The declarations in force (GRIDLINE_LIFECYCLES_DIR), read once per folder."""
    return _load(get_settings().lifecycles_dir)


@cache
def _load(folder: Path) -> dict[TicketType, LifecycleSpec]:
    return load_lifecycles(folder)


@flow(name="lifecycle", persist_result=True)
def lifecycle(ticket_number: str) -> str:
    """Walk the ticket through its declaration until it is closed or waits for someone."""
    with session_scope() as session:
        ticket_type = get_ticket(session, ticket_number).type
    walk = Walk(lifecycles()[ticket_type])
    while walk.key is not None:
        step, attempt = walk.enter()
        outcome, data = run_step(ticket_number, walk, step, attempt)
        walk.leave(step, outcome, data)
    return "closed"


def run_step(number: str, walk: Walk, step: StepSpec, attempt: int) -> tuple[str, dict]:
    now = pendulum.now("UTC")
    with session_scope() as session:
        ticket = get_ticket(session, number)
        row = find_step(session, ticket, step.key, attempt) or enter_step(
            session, ticket, walk, step, attempt, now)
        if row.status != "open":
            return outcome_of(row), row.form_data or {}
        description = describe(ticket, step, row)
    return wait_for(number, walk.spec, step, attempt, description)


def wait_for(number: str, spec: LifecycleSpec, step: StepSpec, attempt: int,
             description: str) -> tuple[str, dict]:
    """Suspend until the step is completed; the run exits here and re-runs from the top."""
    form = run_input_subclass_from_type(FORMS[step.form]).with_initial_data(
        description=description)
    filled = suspend_flow_run(wait_for_input=form, key=f"{step.key}-{attempt}",
                              timeout=get_settings().step_wait_days * 86400)
    # Reached only when an admin resumed the run from the Prefect UI: record it as done here.
    data = filled.model_dump(mode="json")
    with session_scope() as session:
        ticket = get_ticket(session, number)
        row = find_step(session, ticket, step.key, attempt)
        if row.status == "open":
            complete(session, ticket, spec, row, data, by=None, now=pendulum.now("UTC"))
            get_run_logger().info("step %s completed from the Prefect UI", step.key)
        return outcome_of(row), row.form_data


def describe(ticket: Ticket, step: StepSpec, row: Step) -> str:
    """The Markdown the Prefect UI shows above the step's form."""
    due = local_time(row.due_at, get_settings().timezone) or "—"
    return (f"**{step.title}** · 工单 {ticket.number}（{ticket.type.label}）\n\n"
            f"- 处理部门：{row.department.name if row.department else '—'}\n"
            f"- 期限：{due}\n- 地址：{ticket.address}\n- 内容：{ticket.content}\n")


def first_department(session, ticket: Ticket) -> str:
    """The department a new ticket goes to first, for its run's tags."""
    spec = lifecycles()[ticket.type]
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
