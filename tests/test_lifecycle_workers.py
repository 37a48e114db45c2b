"""The in-process lifecycle worker as an operator meets it: its pool's type and template, two
workers sharing one pool without executing a run twice, a run cancelled while it works, and a
worker that reaches its execution bound, drains, exits and is restarted."""

import time
from uuid import UUID

import httpx
import pytest
from prefect import get_client
from prefect.client.schemas.actions import DeploymentUpdate
from prefect.client.schemas.objects import StateType
from prefect.states import Cancelling
from sqlalchemy import create_engine, text

from flows.reconcile import reconcile_lifecycles
from gridline.local_prefect import LIFECYCLE_POOL, POOL
from tests.lifecycle_harness import (
    HAPPY,
    REPLY,
    complete,
    create,
    drive,
    live_centre,
    run_state,
    running_centre,
    ticket,
    wait_closed,
    wait_until_waiting,
)

REPLIED = ("reply", {"reply_text": "已答复"})


@pytest.fixture(scope="module")
def centre(postgres_server, tmp_path_factory):
    yield from running_centre(postgres_server, tmp_path_factory, lifecycle_workers=2)


@pytest.fixture
def live(centre):
    with live_centre(centre):
        yield centre


def test_the_lifecycle_pool_is_of_the_in_process_type_with_its_template(live):
    with get_client(sync_client=True) as client:
        pool, scheduled = client.read_work_pool(LIFECYCLE_POOL), client.read_work_pool(POOL)
    assert (pool.type, scheduled.type) == ("gridline-inprocess", "process")
    env = pool.base_job_template["variables"]["properties"]["env"]
    assert "PREFECT_FLOWS_HEARTBEAT_FREQUENCY" in env["description"]


def executions_by_worker(api_url: str, run_id: str) -> list[str]:
    """The worker named in each `executed-flow-run` event the server holds for the run."""
    answer = httpx.post(f"{api_url}/events/filter", json={"limit": 50, "filter": {
        "event": {"name": ["prefect.worker.executed-flow-run"]},
        "any_resource": {"id": [f"prefect.flow-run.{run_id}"]}}}, timeout=10)
    answer.raise_for_status()
    return [event["resource"]["prefect.resource.name"] for event in answer.json()["events"]]


def state_types(run_id: str) -> list[StateType]:
    with get_client(sync_client=True) as client:
        return [state.type for state in client.read_flow_run_states(UUID(run_id))]


def test_two_workers_share_the_pool_and_each_execution_runs_on_exactly_one(live, capsys):
    chosen = ["complaint", "report", "business", "suggestion"]
    numbers = {create(capsys, t): t for t in chosen * 2}
    drive(capsys, live.db_url, {n: list(HAPPY[t]) for n, t in numbers.items()})
    wait_closed(live.db_url, list(numbers))
    executed_by = set()
    for number, ticket_type in numbers.items():
        run_id = ticket(live.db_url, number)["run"]
        states = state_types(run_id)
        # One execution per wait and one to the end: each suspend resumed once, nothing re-run.
        assert states.count(StateType.PAUSED) == len(HAPPY[ticket_type])
        assert states.count(StateType.RUNNING) == len(HAPPY[ticket_type]) + 1
        deadline = time.monotonic() + 60  # events reach the server shortly after the run
        while len(workers := executions_by_worker(live.prefect.api_url, run_id)) \
                < states.count(StateType.RUNNING) and time.monotonic() < deadline:
            time.sleep(1)
        assert len(workers) == states.count(StateType.RUNNING), (number, workers)
        executed_by.update(workers)
    assert executed_by == {"lifecycles-1", "lifecycles-2"}


def worker_log(centre) -> str:
    return (centre.prefect.log_dir / f"worker-{LIFECYCLE_POOL}.log").read_text(errors="replace")


def test_a_run_cancelled_while_it_works_ends_cancelled_and_its_ticket_goes_on(live, capsys):
    number = create(capsys, "suggestion")
    wait_until_waiting(live.db_url, number, "handle", timeout=90)
    run_id = ticket(live.db_url, number)["run"]
    complete(capsys, live.db_url, number, "handle", REPLY)
    engine = create_engine(live.db_url)
    with engine.connect() as holder:  # the resumed run stops mid-step, in its thread
        holder.execute(text("LOCK TABLE steps IN ACCESS EXCLUSIVE MODE"))
        deadline = time.monotonic() + 90
        while not run_state(run_id).state.is_running():
            assert time.monotonic() < deadline, "the resumed run never started"
            time.sleep(0.5)
        with get_client(sync_client=True) as client:  # what the UI's cancel button does
            client.set_flow_run_state(UUID(run_id), Cancelling())
        while f"Cancelling flow run {run_id}" not in worker_log(live):
            assert time.monotonic() < deadline, "the worker never stopped the run"
            time.sleep(0.5)
        holder.rollback()
    engine.dispose()
    while not (state := run_state(run_id).state).is_final():
        assert time.monotonic() < deadline + 60, f"the cancelled run never ended: {state}"
        time.sleep(0.5)
    assert state.type == StateType.CANCELLED
    assert StateType.CRASHED not in state_types(run_id)
    assert reconcile_lifecycles() == [number]  # the safety net restarts the ticket
    drive(capsys, live.db_url, {number: [REPLIED]})
    wait_closed(live.db_url, [number])
    assert [(k, a) for k, a, _ in ticket(live.db_url, number)["steps"]] == [
        ("handle", 1), ("reply", 1), ("close", 1)]


def test_a_worker_at_its_execution_bound_drains_exits_cleanly_and_is_restarted(live, capsys):
    live.prefect.kill_worker()
    bounded = live.prefect.start_worker(env={"GRIDLINE_WORKER__MAX_EXECUTIONS": "1"})
    number = create(capsys, "suggestion")
    wait_until_waiting(live.db_url, number, "handle", timeout=90)
    assert bounded.wait(timeout=120) == 0  # one execution, then a clean exit
    assert live.prefect.restart_drained() == [LIFECYCLE_POOL]
    drive(capsys, live.db_url, {number: [("handle", REPLY), REPLIED]})
    wait_closed(live.db_url, [number])


def test_a_changed_deployment_is_loaded_again_before_its_next_run(live, capsys):
    """After the drain above, one worker: it has the suggestion flow loaded already."""
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("lifecycle/suggestion")
        client.update_deployment(deployment.id, DeploymentUpdate(description="建议工单流程（新版）"))
    number = create(capsys, "suggestion")
    wait_until_waiting(live.db_url, number, "handle", timeout=90)
    assert f"Loaded flow 'lifecycle' for deployment {deployment.id} (reloaded)" in worker_log(live)
