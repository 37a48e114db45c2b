"""Lifecycles that lose their run or their worker on the way: a cancelled run, and the in-process
worker killed with SIGKILL while runs wait and while one works; every ticket still finishes, on a
restarted worker, with no step, timeline entry or message doubled."""

import time
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.schemas.objects import StateType
from prefect.states import Cancelled
from sqlalchemy import create_engine, text

from flows.reconcile import reconcile_lifecycles
from gridline.local_prefect import LIFECYCLE_POOL
from tests.lifecycle_harness import (
    REPLY,
    complete,
    create,
    drive,
    heartbeats_seen,
    live_centre,
    open_step,
    run_state,
    running_centre,
    ticket,
    wait_closed,
    wait_until_waiting,
)

REPLIED = ("reply", {"reply_text": "已答复"})


@pytest.fixture(scope="module")
def centre(postgres_server, tmp_path_factory):
    yield from running_centre(postgres_server, tmp_path_factory)


@pytest.fixture
def live(centre):
    with live_centre(centre):
        yield centre


def test_a_dead_run_is_restarted_and_continues_without_repeating_anything(live, capsys):
    number = create(capsys, "business")
    wait_until_waiting(live.db_url, number, "handle")
    before = ticket(live.db_url, number)
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(UUID(before["run"]), Cancelled(), force=True)
    assert number in reconcile_lifecycles()
    after = ticket(live.db_url, number)
    assert after["run"] != before["run"]
    wait_until_waiting(live.db_url, number, "handle", why="the new run never reached the open step")
    again = ticket(live.db_url, number)
    assert again["steps"] == before["steps"] and again["messages"] == before["messages"]
    assert [k for k, _ in again["events"]] == [k for k, _ in before["events"]] + ["run_restarted"]
    assert number not in reconcile_lifecycles()  # a waiting run is alive
    drive(capsys, live.db_url, {number: [("handle", REPLY), ("callback", {"result": "满意"})]})
    wait_closed(live.db_url, [number])


def test_a_worker_killed_while_the_run_waits_and_the_ticket_still_finishes(live, capsys):
    number = create(capsys, "opinion")
    wait_until_waiting(live.db_url, number, "handle")
    live.prefect.kill_worker()
    complete(capsys, live.db_url, number, "handle", REPLY)
    time.sleep(3)
    assert open_step(live.db_url, number) is None  # nobody runs it while the worker is down
    live.prefect.start_worker()
    drive(capsys, live.db_url, {number: [REPLIED]})
    wait_closed(live.db_url, [number])


def test_a_worker_killed_while_one_run_works_and_two_wait_and_every_ticket_finishes(live, capsys):
    working, resumed_while_down, untouched = numbers = [create(capsys, "suggestion")
                                                        for _ in range(3)]
    for number in numbers:
        wait_until_waiting(live.db_url, number, "handle", timeout=90)
    run_id = ticket(live.db_url, working)["run"]
    complete(capsys, live.db_url, working, "handle", REPLY)
    # Hold the steps table: the resumed run stops mid-step, alive and beating, until it is killed.
    engine = create_engine(live.db_url)
    with engine.connect() as holder:
        holder.execute(text("LOCK TABLE steps IN ACCESS EXCLUSIVE MODE"))
        deadline = time.monotonic() + 90
        while not (run_state(run_id).state.is_running() and heartbeats_seen(live.prefect.api_url,
                                                                             run_id)):
            assert time.monotonic() < deadline, "the resumed run never beat while it worked"
            time.sleep(0.5)
        # It works in a thread of the worker: the machine goes down, both die, nobody reports.
        pid = int(run_state(run_id).infrastructure_pid.rsplit(":", 1)[-1])  # host:pid
        assert pid in [worker.pid for pool, worker in live.prefect.workers if pool == LIFECYCLE_POOL]
        live.prefect.kill_worker()
        holder.rollback()
    engine.dispose()
    complete(capsys, live.db_url, resumed_while_down, "handle", REPLY)
    live.prefect.start_worker()  # the machine is back
    deadline = time.monotonic() + 240  # 90 s of silence, then the automation's next evaluation
    while (state := run_state(run_id).state).type != StateType.CRASHED:
        assert state.is_running(), f"the killed run should stay Running until marked: {state}"
        assert time.monotonic() < deadline, "the silent run was never marked Crashed"
        time.sleep(2)
    assert reconcile_lifecycles() == [working]
    drive(capsys, live.db_url, {working: [REPLIED], resumed_while_down: [REPLIED],
                                untouched: [("handle", REPLY), REPLIED]})
    wait_closed(live.db_url, numbers)
    baseline = ticket(live.db_url, untouched)
    assert baseline["steps"] == [("handle", 1, "done"), ("reply", 1, "done"), ("close", 1, "done")]
    for number in numbers:
        after = ticket(live.db_url, number)
        assert after["steps"] == baseline["steps"]  # the killed step not redone
        assert after["messages"] == baseline["messages"]  # nobody told twice
        kinds = [k for k, _ in after["events"]]
        assert [k for k in kinds if k != "run_restarted"] == [k for k, _ in baseline["events"]]
        assert kinds.count("run_restarted") == (1 if number == working else 0)
