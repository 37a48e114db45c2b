"""Complaint lifecycles against a bare Prefect flow with as many tasks and suspends, same server.

    .venv/bin/python bench/lifecycle_bench.py [N] [--limit K]

Starts a PostgreSQL cluster, a Prefect server on it and a process worker (pool concurrency K),
then pushes N bare flows (4 suspends, 5 tasks each) and N complaint tickets (contact, handle,
review, callback: 4 suspends, then close) through, each resumed by a script as soon as it waits.
Prints tickets per minute for each and the ratio of Gridline's time to the bare flow's.
"""

import argparse
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from prefect import flow, task
from prefect.flow_runs import suspend_flow_run
from pydantic import BaseModel

STEPS = 4  # a complaint's human steps on its plain path


class Reply(BaseModel):
    result: str


@task(persist_result=True)
def bare_step(index: int) -> int:
    return index


@flow(name="bare-lifecycle", persist_result=True)
def bare_lifecycle(steps: int = STEPS) -> None:
    """The same shape as a lifecycle, without Gridline: a task, a wait, ..., a last task."""
    for index in range(steps):
        bare_step(index)
        suspend_flow_run(wait_for_input=Reply, key=f"step-{index}", timeout=86400)
    bare_step(steps)


SCRIPT = {"contact": {"result": "转责任部门", "note": "已联系客户"},
          "handle": {"result": "已处理", "reply_text": "已处理"},
          "review": {"result": "通过"},
          "callback": {"result": "满意"}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=200)
    parser.add_argument("--limit", type=int, default=4, help="work pool concurrency")
    args = parser.parse_args()
    # Stopped with kill: still stop the server, the worker and the cluster in the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.postgres import Cluster, free_port

    root = Path(tempfile.mkdtemp(prefix="gridline-bench-"))
    cluster_root = Path(tempfile.mkdtemp(prefix="gridline-bench-pg-"))  # owned by postgres
    cluster = Cluster(cluster_root)
    cluster.start()
    try:
        run(cluster, free_port(), root, args.n, args.limit)
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(cluster_root, ignore_errors=True)


def run(cluster, port: int, root: Path, n: int, limit: int) -> None:
    import os

    import pendulum
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolUpdate
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from sqlalchemy import create_engine, text

    from gridline.local_prefect import POOL, LocalPrefect
    from models.core.paths import PROJECT_ROOT
    from tasks.core.db import session_scope, upgrade_schema
    from tasks.demo.seed import seed_demo
    from tasks.tickets.calendar_store import load_work_calendar
    from tasks.tickets.rule_store import ensure_default_rules, load_rules

    engine = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE DATABASE gridline"))
        conn.execute(text("CREATE DATABASE prefect"))
    engine.dispose()
    db_url = cluster.url("gridline")
    os.environ["GRIDLINE_DATABASE_URL"] = db_url
    upgrade_schema(db_url)
    with session_scope() as session:
        ensure_default_rules(session)
        seed_demo(session, now=pendulum.now("UTC"), rules=load_rules(session), tickets=0,
                  calendar=load_work_calendar(session, "Asia/Shanghai"))

    prefect = LocalPrefect(root / "home", port, log_dir=root,
                           server_database_url=cluster.url("prefect").replace("+psycopg",
                                                                              "+asyncpg"),
                           env={"GRIDLINE_DATABASE_URL": db_url,
                                "PREFECT_WORKER_QUERY_SECONDS": "0.5"})
    try:
        prefect.start_server()
        prefect.deploy("lifecycle/complaint")
        with temporary_settings({PREFECT_API_URL: prefect.api_url}):
            with get_client(sync_client=True) as client:
                client.update_work_pool(POOL, WorkPoolUpdate(concurrency_limit=limit))
            bare_lifecycle.from_source(
                source=str(PROJECT_ROOT), entrypoint="bench/lifecycle_bench.py:bare_lifecycle",
            ).deploy(name="bare", work_pool_name=POOL, print_next_steps=False,
                     job_variables=pool_job_variables(PROJECT_ROOT))  # started as ours are
            prefect.start_worker()
            bare = timed(lambda: [str(run_deployment("bare-lifecycle/bare", timeout=0,
                                                     as_subflow=False).id) for _ in range(n)],
                         resume_bare)
            print(f"N={n} per side, work pool concurrency {limit}")
            print(f"bare Prefect flow:  {bare:7.1f} s  {n / bare * 60:6.1f} flows/min", flush=True)
            gridline = timed(lambda: start_tickets(n), resume_ticket)
    finally:
        prefect.stop()
    print(f"Gridline complaint: {gridline:7.1f} s  {n / gridline * 60:6.1f} tickets/min")
    print(f"ratio Gridline / bare: {gridline / bare:.2f} (target <= 1.5)")


def pool_job_variables(project: Path) -> dict:
    """prefect.yaml's job variables (engine command, heartbeats), for the bare deployment."""
    import yaml

    spec = yaml.safe_load((project / "prefect.yaml").read_text(encoding="utf-8"))
    variables = spec["definitions"]["work_pool"]["job_variables"]
    command = variables["command"].replace("{{ $GRIDLINE_PYTHON }}", sys.executable)
    return {**variables, "command": command}


def start_tickets(n: int) -> list[str]:
    import pendulum

    from flows.lifecycle import start_lifecycle
    from models.tickets.intake import TicketIntake
    from tasks.core.db import session_scope
    from tasks.tickets.calendar_store import load_work_calendar
    from tasks.tickets.rule_store import load_rules
    from tasks.tickets.store import create_ticket

    numbers = []
    with session_scope() as session:
        rules, calendar = load_rules(session), load_work_calendar(session, "Asia/Shanghai")
        for i in range(n):
            intake = TicketIntake(type="complaint", phone="13812345678", name="压测",
                                  address="南京市玄武区中山路1号", content=f"压测投诉{i}",
                                  region="320102")
            ticket = create_ticket(session, intake, now=pendulum.now("UTC"), calendar=calendar,
                                   rules=rules)
            numbers.append(ticket.number)
    runs = []
    for number in numbers:
        with session_scope() as session:
            from tasks.tickets.store import get_ticket
            ticket = get_ticket(session, number)
            ticket.flow_run_id = start_lifecycle(session, ticket)
            runs.append(ticket.flow_run_id)
    return runs


def resume_bare(run_id: str) -> None:
    from prefect.flow_runs import resume_flow_run

    resume_flow_run(run_id, run_input={"result": "ok"})


def resume_ticket(run_id: str) -> None:
    from sqlalchemy import select

    from flows.steps import complete_step
    from models.core.enums import StepStatus
    from models.org.organisation import Staff
    from models.tickets.ticket import Step, Ticket
    from tasks.core.db import session_scope

    with session_scope() as session:
        number, key, department = session.execute(
            select(Ticket.number, Step.step_key, Step.department_id).join(Step)
            .where(Ticket.flow_run_id == run_id, Step.status == StepStatus.open)).one()
        by = session.scalar(select(Staff.id).where(Staff.department_id == department))
    complete_step(number, key, SCRIPT[key], by)


def timed(start, resume) -> float:
    """Seconds from starting every run until all completed, resuming each as soon as it waits."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    began = time.monotonic()
    runs = start()
    waiting = set(runs)
    with get_client(sync_client=True) as client:
        while waiting:
            found = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(r) for r in waiting])),
                limit=len(waiting))
            for run in found:
                if run.state.is_completed():
                    waiting.discard(str(run.id))
                elif run.state.is_paused():
                    resume(str(run.id))
                elif run.state.is_final():
                    raise RuntimeError(f"run {run.name} ended {run.state.type}")
            time.sleep(0.5)
    return time.monotonic() - began


if __name__ == "__main__":
    main()
