"""Issue #13's three sides, in one run on one server and database: a bare Prefect flow with a
lifecycle's shape (4 suspends, 5 tasks) on the process worker, the same flow on the in-process
worker (gridline-inprocess), and Gridline's complaint lifecycle on the in-process worker.

    .venv/bin/python bench/lifecycle_bench.py [N] [--limit K]

Starts a PostgreSQL cluster, a Prefect server on it and both workers (K executions at once each),
pushes N runs through each side, each resumed by a script as soon as it waits, and prints per
side: runs (tickets) a minute, CPU seconds per execution of the worker (with the engine processes
it started), the server and the database cluster (both databases), and API requests per
execution (the server's access log: every client, the resuming script's too); then the ratios.
`--sides` picks sides (1 2 3), `--no-story` runs Gridline with the Prefect UI story off.
"""

import argparse
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
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
    parser.add_argument("--sides", type=int, nargs="+", default=[2, 3, 1],
                        help="in this order (the slow process-worker side last by default)")
    parser.add_argument("--no-story", action="store_true", help="Gridline's Prefect UI story off")
    args = parser.parse_args()
    # Stopped with kill: still stop the server, the worker and the cluster in the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from gridline.local_postgres import LocalPostgres, free_port

    root = Path(tempfile.mkdtemp(prefix="gridline-bench-"))
    cluster_root = Path(tempfile.mkdtemp(prefix="gridline-bench-pg-"))  # owned by postgres
    cluster = LocalPostgres(cluster_root, durable=False)
    cluster.start()
    try:
        run(cluster, free_port(), root, args)
        shutil.rmtree(root, ignore_errors=True)
    except BaseException:
        print(f"logs kept in {root}", file=sys.stderr)
        raise
    finally:
        cluster.stop()
        shutil.rmtree(cluster_root, ignore_errors=True)


EXECUTIONS = STEPS + 1  # per run: up to each wait, then to the end


def group_cpu(pgid: int) -> float:
    """CPU seconds of a process group: live members, and the children they have reaped."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ...
            total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process, the children it reaped and its live children (PostgreSQL's
    postmaster and its backends)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid:
            total += sum(int(f) for f in fields[11:15])
        elif int(fields[1]) == pid:
            total += sum(int(f) for f in fields[11:13])
    return total / os.sysconf("SC_CLK_TCK")


POLLS = ("get_scheduled_flow_runs", "/api/flow_runs/filter")  # workers' and this script's polls
REQUEST = re.compile(r'"(GET|POST|PATCH|PUT|DELETE) (/api/\S*) HTTP/[\d.]+" (\d+)')
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\?.*$")


def requests_since(log: Path, offset: int) -> dict[str, int]:
    """The server's access log from `offset`: requests by method, path (ids as {id}) and status."""
    seen: dict[str, int] = {}
    with open(log, "rb") as lines:
        lines.seek(offset)
        for line in lines.read().decode(errors="replace").splitlines():
            if found := REQUEST.search(line):
                method, path, status = found.groups()
                kind = f"{method} {ID.sub('{id}', path)} {status}"
                seen[kind] = seen.get(kind, 0) + 1
    return seen


@dataclass
class Side:
    name: str
    seconds: float
    worker_cpu: float
    server_cpu: float
    database_cpu: float
    requests: dict[str, int]
    n: int

    @property
    def per_minute(self) -> float:
        return self.n / self.seconds * 60

    def per_execution(self, value: float) -> float:
        return value / (self.n * EXECUTIONS)

    def line(self) -> str:
        return (f"{self.name:32s} {self.seconds:7.1f} s {self.per_minute:6.1f}/min | CPU s per "
                f"execution: worker {self.per_execution(self.worker_cpu):.3f} server "
                f"{self.per_execution(self.server_cpu):.3f} database "
                f"{self.per_execution(self.database_cpu):.3f} | API requests per execution "
                f"{self.per_execution(sum(self.requests.values())):.1f} (polls "
                f"{self.per_execution(self.polls):.1f})")

    @property
    def polls(self) -> int:
        return sum(c for kind, c in self.requests.items() if any(p in kind for p in POLLS))

    def breakdown(self, top: int = 14) -> str:
        ranked = sorted(self.requests.items(), key=lambda kv: -kv[1])[:top]
        return "\n".join(f"    {self.per_execution(count):6.2f}  {kind}" for kind, count in ranked)


def measure(name: str, n: int, prefect, pool: str, start, resume, database_pid: int) -> Side:
    worker_pid = next(w.pid for p, w in prefect.workers if p == pool)
    log = prefect.log_dir / "server.log"
    before = (group_cpu(worker_pid), group_cpu(prefect.server.pid), tree_cpu(database_pid),
              log.stat().st_size)
    seconds = timed(start, resume)
    time.sleep(1)  # the access log's last lines
    side = Side(name, seconds, group_cpu(worker_pid) - before[0],
                group_cpu(prefect.server.pid) - before[1], tree_cpu(database_pid) - before[2],
                requests_since(log, before[3]), n)
    print(side.line(), flush=True)
    print(side.breakdown(), flush=True)
    return side


def run(cluster, port: int, root: Path, args) -> None:
    import pendulum
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolUpdate
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_CLIENT_CSRF_SUPPORT_ENABLED,
        temporary_settings,
    )
    from sqlalchemy import create_engine, text

    from gridline.local_prefect import LIFECYCLE_POOL, POOL, LocalPrefect
    from models.core.paths import PROJECT_ROOT
    from tasks.core.db import session_scope, upgrade_schema
    from tasks.demo.seed import seed_demo
    from tasks.tickets.calendar_store import load_work_calendar
    from tasks.tickets.rule_store import ensure_default_rules, load_rules

    n, limit = args.n, args.limit
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
                                "GRIDLINE_WORKER__THREADS": str(limit),
                                "GRIDLINE_STORY": str(not args.no_story).lower(),
                                "PREFECT_SERVER_LOGGING_LEVEL": "INFO",  # the access log
                                "PREFECT_WORKER_QUERY_SECONDS": "0.5"})
    try:
        prefect.start_server()
        prefect.deploy("lifecycle/complaint")
        with temporary_settings({PREFECT_API_URL: prefect.api_url,  # as the portal under `up`
                                 PREFECT_CLIENT_CSRF_SUPPORT_ENABLED: False}):
            with get_client(sync_client=True) as client:
                client.update_work_pool(POOL, WorkPoolUpdate(concurrency_limit=limit))
                # The crashed-run automation off: on this loaded machine it crashed waiting bare
                # runs of the process worker (a late heartbeat); the script watches the runs here.
                for automation in client.read_automations():
                    client.delete_automation(automation.id)
            # Started as the scheduled flows are, but plain Prefect: no heartbeats, which the
            # crashed-run automation reads (a heartbeat that reaches the server after the run's
            # Suspended event, as it may from a loaded machine, has it crash a waiting run).
            variables = {"command": pool_job_variables(PROJECT_ROOT)["command"]}
            source = bare_lifecycle.from_source(
                source=str(PROJECT_ROOT), entrypoint="bench/lifecycle_bench.py:bare_lifecycle")
            source.deploy(name="bare", work_pool_name=POOL, print_next_steps=False,
                          job_variables=variables)
            source.deploy(name="bare-inprocess", work_pool_name=LIFECYCLE_POOL,
                          print_next_steps=False)
            prefect.start_workers()
            print(f"N={n} per side, {limit} executions at once per worker, "
                  f"{EXECUTIONS} executions per run", flush=True)
            database = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
            plan = {1: ("bare flow, process worker", POOL, lambda: start_bare("bare", n),
                        resume_bare),
                    2: ("bare flow, in-process worker", LIFECYCLE_POOL,
                        lambda: start_bare("bare-inprocess", n), resume_bare),
                    3: (f"Gridline complaint, in-process{' (no story)' if args.no_story else ''}",
                        LIFECYCLE_POOL, lambda: start_tickets(n), resume_ticket)}
            sides = {i: measure(plan[i][0], n, prefect, *plan[i][1:], database)
                     for i in args.sides}
    finally:
        prefect.stop()
    ratios(sides)


def ratios(sides: dict[int, Side]) -> None:
    def cpu(side: Side) -> float:
        return side.worker_cpu + side.server_cpu + side.database_cpu

    pairs = [(2, 1, "bare flow, in-process vs process worker", None),
             (3, 1, "Gridline complaint (in-process) vs bare flow (process worker)", ">= 10"),
             (3, 2, "Gridline complaint vs bare flow, both in-process", "time <= 1.3")]
    for a, b, title, target in pairs:
        if a in sides and b in sides:
            x, y = sides[a], sides[b]
            print(f"{title}: throughput {x.per_minute / y.per_minute:.2f}x, time "
                  f"{x.seconds / y.seconds:.2f}x, worker CPU {x.worker_cpu / y.worker_cpu:.2f}x, "
                  f"all CPU {cpu(x) / cpu(y):.2f}x, requests "
                  f"{sum(x.requests.values()) / sum(y.requests.values()):.2f}x"
                  + (f" (target {target})" if target else ""), flush=True)


def start_bare(deployment: str, n: int) -> list[str]:
    from prefect.deployments import run_deployment

    return [str(run_deployment(f"bare-lifecycle/{deployment}", timeout=0, as_subflow=False).id)
            for _ in range(n)]


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

    try:
        resume_flow_run(run_id, run_input={"result": "ok"})
    except RuntimeError as exc:  # Paused a moment before its input schema is stored: next poll
        if "schema not found" not in str(exc):
            raise


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
    waiting, told = set(runs), began
    with get_client(sync_client=True) as client:
        while waiting:
            if time.monotonic() - told > 120:  # a side cut short still says how far it got
                told = time.monotonic()
                print(f"    ... {len(runs) - len(waiting)}/{len(runs)} runs done after "
                      f"{told - began:.0f} s", flush=True)
            found = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(r) for r in waiting])),
                limit=len(waiting))
            for run in found:
                if run.state.is_completed():
                    waiting.discard(str(run.id))
                elif run.state.is_paused():
                    resume(str(run.id))
                elif run.state.is_final():
                    raise RuntimeError(f"run {run.name} ended {run.state.type}: "
                                       f"{run.state.message}")
            time.sleep(0.5)
    return time.monotonic() - began


if __name__ == "__main__":
    main()
