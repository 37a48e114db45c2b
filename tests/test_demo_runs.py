"""The demo seeded against a real Prefect server and process worker (as `gridline up` does): each
open ticket's run starts, recognises every step already recorded and waits at the ticket's
current step, having repeated nothing; completing that step moves the ticket on."""

import time
from uuid import UUID

import pendulum
import pytest
from prefect import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import func, select

from flows.steps import complete_step
from gridline.local_postgres import free_port
from gridline.local_prefect import LocalPrefect
from models.core.enums import OPEN_STATUSES, StepStatus
from models.messaging.outbox import OutboxMessage
from models.tickets.ticket import Event, Step, Ticket
from tasks.core.db import session_scope, upgrade_schema
from tasks.tickets.rule_store import ensure_default_rules
from tests.cli import run_cli
from tests.conftest import _fresh_postgres_database

SIZE = 8  # the first audit's handful, the fault in 江宁 and one neighbour's call linked to it


@pytest.fixture(scope="module")
def centre(postgres_server, tmp_path_factory):
    db_url = _fresh_postgres_database(postgres_server)
    upgrade_schema(db_url)
    with session_scope(db_url) as session:
        ensure_default_rules(session)
    root = tmp_path_factory.mktemp("prefect")
    # Prefect on PostgreSQL, as `gridline up` keeps it: on SQLite, the demo's runs starting at
    # once locked it, and runs were left Pending or crashed.
    prefect_db = _fresh_postgres_database(postgres_server).replace("+psycopg", "+asyncpg")
    prefect = LocalPrefect(root / "home", free_port(), log_dir=root,
                           server_database_url=prefect_db,
                           env={"GRIDLINE_DATABASE_URL": db_url,
                                "PREFECT_WORKER_QUERY_SECONDS": "0.5"})
    try:
        prefect.start_server()
        prefect.deploy("lifecycle/*")
        prefect.start_worker()
        yield prefect, db_url
    finally:
        prefect.stop()


def snapshot(url: str) -> dict:
    with session_scope(url) as session:
        return {
            "steps": sorted(session.execute(select(Ticket.number, Step.step_key, Step.attempt,
                                                   Step.status).join(Step)).all()),
            "events": session.scalar(select(func.count()).select_from(Event)),
            "messages": session.scalar(select(func.count()).select_from(OutboxMessage)),
            "waiting": {n: (k, a) for n, k, a in session.execute(
                select(Ticket.number, Step.step_key, Step.attempt).join(Step)
                .where(Step.status == StepStatus.open))},
            "runs": dict(session.execute(select(Ticket.number, Ticket.flow_run_id).where(
                Ticket.status.in_(OPEN_STATUSES))).tuples().all()),
        }


def paused_at(run_ids: dict[str, str], timeout: float = 300) -> dict[str, str]:
    """Each run's pause key once every run waits; fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            states = {n: client.read_flow_run(UUID(r)).state for n, r in run_ids.items()}
            if all(s is not None and s.is_paused() for s in states.values()):
                return {n: s.state_details.pause_key for n, s in states.items()}
            assert time.monotonic() < deadline, {n: s.type for n, s in states.items()}
            time.sleep(1)


def test_seeded_runs_wait_where_each_ticket_stands_without_repeating_a_step(
        centre, capsys, monkeypatch):
    prefect, db_url = centre
    monkeypatch.setenv("GRIDLINE_DATABASE_URL", db_url)
    with temporary_settings({PREFECT_API_URL: prefect.api_url}):
        seeded = run_cli(capsys, "demo", "seed", "--tickets", str(SIZE), "--json")
        assert seeded.code == 0, seeded.err
        counts = seeded.json()
        before = snapshot(db_url)
        assert (counts["tickets"], counts["open"], counts["runs"]) == (SIZE, 7, 7)
        assert len(before["runs"]) == 7 and all(before["runs"].values())
        keys = paused_at(before["runs"])
        assert keys == {n: f"{k}-{a}" for n, (k, a) in before["waiting"].items()}
        assert snapshot(db_url) == before  # every earlier step recognised, nothing redone

        # The complaint waiting at contact goes on to the department once contacted.
        number = next(n for n, (k, _) in before["waiting"].items() if k == "contact")
        with session_scope(db_url) as session:
            step = session.scalar(select(Step).join(Ticket).where(
                Ticket.number == number, Step.status == StepStatus.open))
            agent = step.assignee_id
        complete_step(number, "contact", {"result": "转责任部门", "note": "已联系客户"}, agent,
                      now=pendulum.now("UTC"))
        deadline = time.monotonic() + 120
        while paused_at({number: before["runs"][number]}).get(number) != "handle-1":
            assert time.monotonic() < deadline, "the complaint never reached its department"
            time.sleep(1)
        after = snapshot(db_url)
        assert after["waiting"][number] == ("handle", 1)
        assert len(after["steps"]) == len(before["steps"]) + 1
