"""Completing a lifecycle step: the form is checked, the step recorded, and the ticket's run resumed.

The database is written first, in one transaction; the run is resumed after. If the run cannot be
resumed (it died), the reconciler starts a new one, which finds the step done and goes on.
"""

import time
from datetime import datetime
from uuid import UUID

import pendulum
from prefect import get_client
from prefect.client.schemas.responses import SetStateStatus
from prefect.exceptions import ObjectNotFound
from sqlalchemy import select

from flows.lifecycle import lifecycle_of
from models.core.enums import StepStatus
from models.core.errors import InputError
from models.org.organisation import Staff
from models.tickets.ticket import Step
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.tickets.lifecycle_store import complete
from tasks.tickets.step_forms import as_run_input, check_filled
from tasks.tickets.store import get_ticket


def complete_step(number: str, step_key: str, data: dict, by_staff_id: int, *,
                  now: datetime | None = None) -> Step:
    """Validate `data` against the open step's form, record it done, resume the ticket's run.
    Of two submissions at once, the later gets StepNotOpen (an InputError) and writes nothing."""
    now = now or pendulum.now("UTC")
    with session_scope() as session:
        ticket = get_ticket(session, number)
        step = session.scalar(select(Step).where(
            Step.ticket_id == ticket.id, Step.step_key == step_key,
            Step.status == StepStatus.open))
        if step is None:
            raise InputError("step", f"工单{number}没有待处理的环节 {step_key}",
                             f"ticket {number} has no open step {step_key!r}")
        staff = session.get(Staff, by_staff_id)
        if staff is None:
            raise InputError("by", "处理人不存在", f"no staff with id {by_staff_id}")
        spec = lifecycle_of(session, ticket)
        filled = check_filled(session, spec, step, data, now)
        complete(session, ticket, spec, step, filled, by=staff, now=now)
        run_id, run_input = ticket.flow_run_id, as_run_input(session, spec, step, filled)
    if run_id:
        resume(UUID(run_id), run_input)
    return step


def resume(run_id: UUID, data: dict) -> bool:
    """Resume the run once it waits; False if it is gone or dead (the reconciler's business)."""
    deadline = time.monotonic() + get_settings().resume_wait_seconds
    with get_client(sync_client=True) as client:
        while True:
            try:
                state = client.read_flow_run(run_id).state
            except ObjectNotFound:
                return False
            if state is not None and state.is_paused():
                # The client's own call: prefect.flow_runs.resume_flow_run reads the run again.
                answer = client.resume_flow_run(run_id, run_input=data)
                if answer.status != SetStateStatus.REJECT:
                    return True
                # Paused a moment before its form's schema is stored: ask again. Refused for
                # another reason (timed out, resumed meanwhile): the reconciler's business too.
                if "schema not found" not in (getattr(answer.details, "reason", "") or ""):
                    return False
            if state is None or state.is_final() or time.monotonic() > deadline:
                return False
            time.sleep(0.5)  # still on its way to the wait (a re-run takes a few seconds)
