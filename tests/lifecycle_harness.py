"""What the lifecycle tests share: a centre on a real Prefect server (PostgreSQL) with the
in-process lifecycle worker, and the CLI-driven helpers that create tickets, complete their
steps as the departments would and read what happened."""

import io
import json
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from uuid import UUID

import httpx
import pendulum
import pytest
from prefect import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import select

from gridline.local_postgres import free_port
from gridline.local_prefect import LIFECYCLE_POOL, LocalPrefect
from models.core.enums import StepStatus, TicketStatus
from models.messaging.outbox import OutboxMessage
from models.org.organisation import Staff
from models.tickets.ticket import Step, Ticket
from tasks.core.db import session_scope, upgrade_schema
from tasks.core.settings import get_settings
from tasks.demo.seed import seed_demo
from tasks.tickets.calendar_store import load_work_calendar
from tasks.tickets.rule_store import ensure_default_rules, load_rules
from tests.cli import run_cli
from tests.conftest import _fresh_postgres_database

# Far from the demo's tickets (the ten days before now), so only our own fault tickets are "known";
# in the past, as a crew's arrival is never before the ticket's receipt nor in the future.
FAULT_AT = pendulum.now("Asia/Shanghai").subtract(days=20).set(hour=10, minute=0, second=0,
                                                                microsecond=0)
FAULT_TIME = FAULT_AT.isoformat()


@dataclass
class Centre:
    prefect: LocalPrefect
    db_url: str
    lifecycles: Path


def centre_lifecycles(folder: Path) -> Path:
    """The shipped declarations, but a complaint reopens once (not twice) before it escalates:
    the same path, three steps shorter."""
    shutil.copytree(get_settings().lifecycles_dir, folder)
    complaint = folder / "complaint.yaml"
    text = complaint.read_text(encoding="utf-8")
    assert "at_most: 2" in text
    complaint.write_text(text.replace("at_most: 2", "at_most: 1"), encoding="utf-8")
    return folder


def running_centre(postgres_server, tmp_path_factory, lifecycle_workers: int = 1,
                   env: dict[str, str] | None = None, seed=None):
    """A centre's database (PostgreSQL, the demo's organisation loaded, or `seed(session)`'s
    centre), a Prefect server on PostgreSQL with the lifecycle deployments, and
    `lifecycle_workers` in-process workers (named lifecycles-1, ...) on their pool, with the
    centre's own settings `env`: a module's `centre` fixture yields from it."""
    db_url = _fresh_postgres_database(postgres_server)
    prefect_db = _fresh_postgres_database(postgres_server).replace("+psycopg", "+asyncpg")
    upgrade_schema(db_url)
    with session_scope(db_url) as session:
        ensure_default_rules(session)
        if seed is not None:
            seed(session)
        else:  # the demo's organisation, not its tickets: runless, the reconciler would start them
            seed_demo(session, now=pendulum.now("UTC"), rules=load_rules(session), tickets=0,
                      calendar=load_work_calendar(session, "Asia/Shanghai"))
    root = tmp_path_factory.mktemp("prefect")
    lifecycles = centre_lifecycles(root / "lifecycles")
    prefect = LocalPrefect(root / "home", free_port(), server_database_url=prefect_db,
                           log_dir=root, env={"GRIDLINE_DATABASE_URL": db_url,
                                              "GRIDLINE_LIFECYCLES_DIR": str(lifecycles),
                                              "PREFECT_WORKER_QUERY_SECONDS": "0.5",
                                              **(env or {})})
    try:
        prefect.start_server()
        prefect.deploy("lifecycle/*", "case-lifecycle/*")  # matched by entrypoint function
        for i in range(1, lifecycle_workers + 1):
            prefect.start_worker(LIFECYCLE_POOL, name=f"lifecycles-{i}")
        yield Centre(prefect, db_url, lifecycles)
    finally:
        prefect.stop()


@contextmanager
def live_centre(centre: Centre):
    """This process talks to the centre's database and Prefect server, as the CLI would."""
    with pytest.MonkeyPatch.context() as patch, \
            temporary_settings({PREFECT_API_URL: centre.prefect.api_url}):
        patch.setenv("GRIDLINE_DATABASE_URL", centre.db_url)
        patch.setenv("GRIDLINE_LIFECYCLES_DIR", str(centre.lifecycles))
        yield centre


def complete(capsys, url: str, number: str, key: str, data: dict) -> None:
    """`gridline step complete` of the ticket's open step `key`, by someone of its department."""
    step = open_step(url, number)
    result = run_cli(capsys, "step", "complete", number, key, "--data",
                     json.dumps(data, ensure_ascii=False), "--by", str(someone_from(url, step)))
    assert result.code == 0, result.err


def create(capsys, ticket_type: str, region: str = "320102", start: bool = True,
           **extra: str) -> str:
    args = ["ticket", "create", "--type", ticket_type, "--phone", "13812345678", "--name", "张三",
            "--address", "南京市玄武区中山路1号", "--content", f"{ticket_type}测试", "--region", region,
            "--json", "--start" if start else "--no-start"]
    for name, value in extra.items():
        args += [f"--{name.replace('_', '-')}", value]
    result = run_cli(capsys, *args)
    assert result.code == 0, result.err
    return result.json()["number"]


def run_state(run_id: str):
    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(run_id))


def open_step(url: str, number: str) -> Step | None:
    with session_scope(url) as session:
        return session.scalar(select(Step).join(Ticket).where(
            Ticket.number == number, Step.status == StepStatus.open))


def someone_from(url: str, step: Step) -> int:
    """The step's assignee, else a person of its department."""
    if step.assignee_id:
        return step.assignee_id
    with session_scope(url) as session:
        return session.scalar(select(Staff.id).where(Staff.department_id == step.department_id)
                              .order_by(Staff.id))


def waiting_at(url: str, number: str, key: str) -> Step | None:
    """The open step `key` of the ticket, once its run has suspended there."""
    step = open_step(url, number)
    if step is None or step.step_key != key:
        return None
    with session_scope(url) as session:
        run_id = session.scalar(select(Ticket.flow_run_id).where(Ticket.number == number))
    return step if run_state(run_id).state.is_paused() else None


def wait_until_waiting(url: str, number: str, key: str, timeout: float = 60,
                       why: str | None = None) -> Step:
    """The open step `key` of the ticket once its run waits there; fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not (step := waiting_at(url, number, key)):
        assert time.monotonic() < deadline, why or f"the {key} step never opened"
        time.sleep(0.5)
    return step


def drive(capsys, url: str, scripts: dict[str, list[tuple[str, dict]]], timeout: float = 600):
    """Complete each ticket's steps in order through the CLI, each as soon as its run waits."""
    deadline = time.monotonic() + timeout
    while any(scripts.values()):
        for number, actions in scripts.items():
            if actions and (step := waiting_at(url, number, actions[0][0])):
                key, data = actions.pop(0)
                result = run_cli(capsys, "step", "complete", number, key, "--data",
                                 json.dumps(data, ensure_ascii=False),
                                 "--by", str(someone_from(url, step)))
                assert result.code == 0, result.err
        if time.monotonic() > deadline:
            stuck = {n: (a[0][0], getattr(open_step(url, n), "step_key", None))
                     for n, a in scripts.items() if a}
            pytest.fail(f"tickets stuck (expected step, open step): {stuck}")
        time.sleep(0.5)


def wait_closed(url: str, numbers: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(url) as session:
            statuses = set(session.scalars(select(Ticket.status).where(Ticket.number.in_(numbers))))
        if statuses == {TicketStatus.closed}:
            return
        time.sleep(0.5)
    pytest.fail(f"not closed in {timeout} s: {statuses}")


def ticket(url: str, number: str) -> dict:
    with session_scope(url) as session:
        t = session.scalar(select(Ticket).where(Ticket.number == number))
        return {
            "status": t.status, "closed_at": t.closed_at, "run": t.flow_run_id,
            "steps": [(s.step_key, s.attempt, s.status.value) for s in t.steps],
            "departments": {(s.step_key, s.attempt): s.department.code if s.department else None
                            for s in t.steps},
            "events": [(e.kind, e.message) for e in t.events],
            "met": {c.clock: c.met_at is not None for c in t.clocks},
            "messages": sorted(m.template for m in session.scalars(
                select(OutboxMessage).where(OutboxMessage.ticket_id == t.id))),
        }


REPLY = {"result": "已处理", "reply_text": "已按政策处理并答复"}
RETURNING = [("handle", {"result": "退单", "reply_text": "不属于本部门"}),
             ("redispatch", {"department": "D3201-marketing", "note": "转市公司营销部"}),
             ("handle", REPLY), ("reply", {"reply_text": "已答复"})]
HAPPY = {
    "consultation": [("answer", {"result": "转部门"}), ("handle", REPLY),
                     ("reply", {"reply_text": "已电话告知客户"})],
    "fault_repair": [("arrive", {"note": "变压器跌落保险熔断"}),
                     ("restore", {"cause": "熔断器老化", "note": "已更换"}),
                     ("callback", {"result": "满意"})],
    "complaint": [("contact", {"result": "转纪检监察", "note": "客户反映抄表员索要好处"}),
                  ("inspect", REPLY), ("review", {"result": "通过"}), ("callback", {"result": "满意"})],
    "report": [("inspect", REPLY), ("review", {"result": "通过"}),
               ("reply", {"reply_text": "已告知举报人调查结果"})],
    "opinion": RETURNING,  # a return and re-dispatch on the way
    "suggestion": [("handle", REPLY), ("reply", {"reply_text": "已答复"})],
    "business": [("handle", REPLY), ("callback", {"result": "满意"})],
}
UNSATISFIED = {"result": "不满意", "note": "问题没有解决"}
REOPENING = [("contact", {"result": "转责任部门", "note": "已联系"})] + [
    ("handle", REPLY), ("review", {"result": "通过"}), ("callback", UNSATISFIED)] * 2 + [
    ("escalate", {"decision": "值班长亲自协调处理"})]


class Capture:
    """What capsys gives run_cli, for a module-wide fixture: the output since the last look."""

    def __init__(self):
        self.out, self.err = io.StringIO(), io.StringIO()

    def readouterr(self) -> SimpleNamespace:
        seen = SimpleNamespace(out=self.out.getvalue(), err=self.err.getvalue())
        for stream in (self.out, self.err):
            stream.seek(0)
            stream.truncate()
        return seen


def heartbeats_seen(api_url: str, run_id: str) -> int:
    """Heartbeat events the server holds for the run."""
    answer = httpx.post(f"{api_url}/events/filter", json={"filter": {
        "event": {"name": ["prefect.flow-run.heartbeat"]},
        "resource": {"id": [f"prefect.flow-run.{run_id}"]}}}, timeout=10)
    answer.raise_for_status()
    return answer.json()["total"]


def two_lapse_audits_at_once(api_url: str, now) -> list[list[str]]:
    """What each of two `case-lapses` audits, started together at `now`, completed."""
    import threading

    from flows.cases import lapse_case_steps
    results: list[list[str]] = []

    def audit():  # Prefect's settings are the thread's own
        with temporary_settings({PREFECT_API_URL: api_url}):
            results.append(lapse_case_steps(now=now))

    audits = [threading.Thread(target=audit) for _ in range(2)]
    for each in audits:
        each.start()
    for each in audits:
        each.join()
    return results
