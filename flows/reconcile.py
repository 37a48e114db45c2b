"""The reconciler, every five minutes: an open ticket (or case, flows/cases.py) whose lifecycle run failed, crashed, was
cancelled or is gone gets a new run, which continues from the database (done steps are skipped,
open ones wait again); one that never got a run (created while Prefect was away, or with
--no-start) gets its first. Marketing-system imports never get one. Waiting runs whose ticket has
a clock running late are tagged `overdue` (the run itself tags what it sees while it executes)."""

from datetime import timedelta
from uuid import UUID

import pendulum
from prefect import flow, get_client, get_run_logger
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterName
from prefect.client.schemas.objects import FlowRun, StateType

from flows.cases import start_case_run
from flows.lifecycle import start_lifecycle
from flows.story import OVERDUE
from models.cases.case import Case
from models.tickets.ticket import Event, Ticket
from tasks.cases.store import get_case, open_cases_needing_runs
from tasks.core.db import session_scope
from tasks.tickets.lifecycle_store import SYSTEM, open_tickets_needing_runs
from tasks.tickets.store import get_ticket

DEAD = {StateType.FAILED, StateType.CRASHED, StateType.CANCELLED, StateType.CANCELLING}
STAGGER = timedelta(seconds=1)  # many runs started at once start a little apart
BATCH = 100  # runs per read (a ticket restarted has several runs of its name)


@flow(name="reconcile-lifecycles")
def reconcile_lifecycles() -> list[str]:
    """Start the runs that are missing or dead; return the numbers of the tickets started."""
    now = pendulum.now("UTC")
    with session_scope() as session:
        needs = open_tickets_needing_runs(session, now) + open_cases_needing_runs(session)
    with get_client(sync_client=True) as client:
        runs = runs_by_id(client, [UUID(n.run_id) for n in needs if n.run_id])
        named = live_runs_named(client, [n.number for n in needs if not n.run_id])
        for need in needs:
            run = runs.get(need.run_id)
            if need.late and run is not None and alive(run) and OVERDUE not in run.tags:
                client.update_flow_run(run.id, tags=[*run.tags, OVERDUE])
    started = []
    for need in needs:
        if need.run_id is not None and alive(runs.get(need.run_id)):
            continue
        adopted = named.get(need.number) if need.run_id is None else None
        with session_scope() as session:
            subject = (get_case if need.case else get_ticket)(session, need.number)
            old = subject.flow_run_id
            # A run started but not yet recorded (intake between its two commits) is kept.
            subject.flow_run_id = str(adopted.id) if adopted else restart(
                session, subject, now + STAGGER * len(started))
            if adopted is None:
                session.add(started_event(subject, old, subject.flow_run_id))
                started.append(need.number)
        get_run_logger().info("%s the lifecycle of %s", "adopted" if adopted else
                              "restarted" if old else "started", need.number)
    return started


def restart(session, subject: Ticket | Case, at) -> str:
    if isinstance(subject, Case):
        return start_case_run(subject, at=at)
    return start_lifecycle(session, subject, at=at)


def started_event(subject: Ticket | Case, old: str | None, new: str) -> Event:
    case = isinstance(subject, Case)
    message = "流程运行已中断，已重新启动" if old else \
        f"{'流程单' if case else '工单'}尚无流程运行，已补启动"
    return Event(ticket_id=None if case else subject.id, case_id=subject.id if case else None,
                 at=pendulum.now("UTC"),
                 kind="run_restarted" if old else "run_started", actor=SYSTEM, message=message,
                 detail={"old_run": old, "new_run": new})


def runs_by_id(client, ids: list[UUID]) -> dict[str, FlowRun]:
    return {str(r.id): r for r in _read(client, FlowRunFilterId, ids)}


def live_runs_named(client, names: list[str]) -> dict[str, FlowRun]:
    """Runs named by these ticket numbers (start_lifecycle names them so) that are not dead."""
    return {r.name: r for r in _read(client, FlowRunFilterName, names) if alive(r)}


def _read(client, by, values: list) -> list[FlowRun]:
    """A few hundred runs per request."""
    found, key = [], "id" if by is FlowRunFilterId else "name"
    for i in range(0, len(values), BATCH):
        found += client.read_flow_runs(
            flow_run_filter=FlowRunFilter(**{key: by(any_=values[i:i + BATCH])}), limit=200)
    return found


def alive(run: FlowRun | None) -> bool:
    return run is not None and run.state_type is not None and run.state_type not in DEAD
