"""Prefect's own scheduler, not the test, creates the runs of prefect.yaml's scheduled deployments,
and the worker runs them to completion: the outbox reaches the mail and SMS sinks, the audit writes
its workbooks. A scheduler that fails (Prefect 3.8.8 on SQLAlchemy 2.1, issue 14) fails this test,
and `gridline up`'s watchdog finds nothing wrong with a centre that works."""

import json
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pendulum
import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterDeploymentId
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.schedules import IntervalSchedule
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import select

from gridline.local_postgres import free_port
from gridline.local_prefect import POOL, LocalPrefect
from gridline.sinks import Sinks
from gridline.watchdog import check
from models.audit.assessment import AuditStage
from models.messaging.outbox import OutboxMessage, OutboxStatus
from tasks.audit.workbooks import workbook_path
from tasks.core.db import session_scope, upgrade_schema
from tasks.messaging.outbox import enqueue
from tasks.tickets.rule_store import ensure_default_rules
from tests.conftest import _fresh_postgres_database
from tests.mail import read_mail

SCHEDULED = ["deliver-outbox", "deadline-audit"]  # flow and deployment share the name
# For the test (prefect.yaml: every minute, every five), yet longer than a run takes here: the
# audit runs one at a time, and runs outpaced by their schedule pile up late.
EVERY = timedelta(seconds=30)


@pytest.fixture(scope="module")
def centre(postgres_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("scheduler")
    # The Prefect server on PostgreSQL: on its SQLite default a loaded CI machine answered the
    # scheduler and the worker with "database is locked" (the runs came late, not never).
    prefect_db = _fresh_postgres_database(postgres_server).replace("+psycopg", "+asyncpg")
    db_url = f"sqlite:///{root / 'gridline.db'}"
    upgrade_schema(db_url)
    with session_scope(db_url) as session:
        ensure_default_rules(session)
    smtp_port, sms_port = free_port(), free_port()
    sinks = Sinks(root / "sinks", smtp_port, sms_port).start()
    prefect = LocalPrefect(root / "home", free_port(), log_dir=root,
                           server_database_url=prefect_db, env={
        "GRIDLINE_DATABASE_URL": db_url, "GRIDLINE_AUDIT_DIR": str(root / "audit"),
        "GRIDLINE_SMTP__PORT": str(smtp_port), "GRIDLINE_SMS__URL": f"http://127.0.0.1:{sms_port}/sms",
        # The scheduler looks every 60 s by default: every second here, so runs come soon.
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "1", "PREFECT_WORKER_QUERY_SECONDS": "1"})
    try:
        prefect.start_server()
        prefect.deploy(*SCHEDULED)
        with temporary_settings({PREFECT_API_URL: prefect.api_url}), \
                get_client(sync_client=True) as client:
            for name in SCHEDULED:
                shorten_schedule(client, f"{name}/{name}")
        queue_reminders(db_url)
        prefect.start_worker(POOL)  # the scheduled flows run on the process pool
        yield SimpleNamespace(prefect=prefect, db_url=db_url, sinks=sinks, root=root)
    finally:
        prefect.stop()
        sinks.stop()


def shorten_schedule(client, name: str) -> None:
    """The deployment's one schedule, as deployed from prefect.yaml, made to come every EVERY;
    the server drops the runs already scheduled and the scheduler makes new ones."""
    deployment = client.read_deployment_by_name(name)
    [schedule] = deployment.schedules
    client.update_deployment_schedule(deployment.id, schedule.id,
                                      schedule=IntervalSchedule(interval=EVERY))


def queue_reminders(db_url: str) -> None:
    context = {"ticket_no": "95598202612010001", "content": "抄表员态度恶劣",
               "deadline": pendulum.now("UTC"), "overdue_by": "2小时"}
    with session_scope(db_url) as session:
        for channel, recipient in (("sms", "13812345678"), ("email", "zhang.wei@gridline.invalid")):
            enqueue(session, key=f"test:{channel}", channel=channel, recipient=recipient,
                    template="overdue", context=context, now=pendulum.now("UTC"))


def runs_of(client, name: str) -> list:
    deployment = client.read_deployment_by_name(f"{name}/{name}")
    return client.read_flow_runs(flow_run_filter=FlowRunFilter(
        deployment_id=FlowRunFilterDeploymentId(any_=[deployment.id])))


def completed(client, name: str) -> list:
    return [run for run in runs_of(client, name) if run.state_type == StateType.COMPLETED]


def wait_for_completed_runs(centre, timeout: float = 240) -> dict[str, list]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with get_client(sync_client=True) as client:
            done = {name: completed(client, name) for name in SCHEDULED}
        if all(done.values()):
            return done
        time.sleep(1)
    log = (centre.root / "server.log").read_text(encoding="utf-8", errors="replace")
    errors = list(dict.fromkeys(line for line in log.splitlines() if "Error:" in line))
    raise AssertionError(f"no completed run of each of {SCHEDULED} within {timeout} s: "
                         f"{ {name: len(runs) for name, runs in done.items()} }; server errors: "
                         f"{errors[-5:]}")


def test_the_scheduler_creates_the_runs_and_they_deliver_and_audit(centre):
    with temporary_settings({PREFECT_API_URL: centre.prefect.api_url}):
        done = wait_for_completed_runs(centre)
        with get_client(sync_client=True) as client:
            every_run = [run for name in SCHEDULED for run in runs_of(client, name)]
            problems = check(client, POOL, datetime.now(UTC))

    # The scheduler made every run (none came from this test), and none of those that ended failed.
    assert {run.auto_scheduled for run in every_run} == {True}
    assert {run.state_type for run in every_run if run.state.is_final()} == {StateType.COMPLETED}

    # What a user notices: the queued reminders arrived once each, and the day's workbooks exist.
    sms = [json.loads(line) for line in centre.sinks.sms_log.read_text("utf-8").splitlines()]
    assert [json.loads(s["body"])["to"] for s in sms] == ["13812345678"]
    assert "工单号为95598202612010001" in json.loads(sms[0]["body"])["text"]
    assert [mail["To"] for mail in read_mail(centre.sinks.mail_dir)] == ["zhang.wei@gridline.invalid"]
    with session_scope(centre.db_url) as session:
        assert set(session.scalars(select(OutboxMessage.status))) == {OutboxStatus.sent}
    audited = pendulum.instance(done["deadline-audit"][0].start_time).in_timezone("Asia/Shanghai")
    assert sorted((centre.root / "audit").iterdir()) == sorted(
        workbook_path(centre.root / "audit", stage, audited.date()) for stage in AuditStage)

    # and the watchdog of `gridline up` has nothing to say about this centre
    assert problems == []
