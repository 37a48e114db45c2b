"""The reconciler: an open ticket whose lifecycle run failed, crashed, was cancelled or is gone gets
a new run, which continues from the database (done steps are skipped, open ones wait again)."""

from uuid import UUID

import pendulum
from prefect import flow, get_client, get_run_logger
from prefect.client.schemas.objects import StateType
from prefect.exceptions import ObjectNotFound

from flows.lifecycle import start_lifecycle
from models.tickets.ticket import Event
from tasks.core.db import session_scope
from tasks.tickets.lifecycle_store import SYSTEM, open_tickets_with_runs
from tasks.tickets.store import get_ticket

DEAD = {StateType.FAILED, StateType.CRASHED, StateType.CANCELLED, StateType.CANCELLING}


@flow(name="reconcile-lifecycles")
def reconcile_lifecycles() -> list[str]:
    """Restart the dead runs of open tickets; return the numbers of the tickets restarted."""
    with session_scope() as session:
        runs = {t.number: t.flow_run_id for t in open_tickets_with_runs(session)}
    dead = [number for number, run_id in runs.items() if not alive(UUID(run_id))]
    for number in dead:
        with session_scope() as session:
            ticket = get_ticket(session, number)
            old, ticket.flow_run_id = ticket.flow_run_id, start_lifecycle(session, ticket)
            session.add(Event(ticket_id=ticket.id, at=pendulum.now("UTC"), kind="run_restarted",
                              actor=SYSTEM, message="流程运行已中断，已重新启动",
                              detail={"old_run": old, "new_run": ticket.flow_run_id}))
        get_run_logger().info("restarted the lifecycle of %s", number)
    return dead


def alive(run_id: UUID) -> bool:
    with get_client(sync_client=True) as client:
        try:
            state = client.read_flow_run(run_id).state
        except ObjectNotFound:
            return False
    return state is not None and state.type not in DEAD
