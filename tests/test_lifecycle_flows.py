"""Ticket lifecycles against a real Prefect server and process worker, driven by `gridline step
complete` as the centre and the departments would. One server, worker and Gridline database
(PostgreSQL, like a centre in production) serve the module; the journeys run side by side."""

import io
import json
import os
import shutil
import signal
import time
from contextlib import redirect_stderr, redirect_stdout, suppress
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from uuid import UUID

import httpx
import pendulum
import pytest
from prefect import get_client
from prefect.client.schemas.objects import StateType
from prefect.flow_runs import resume_flow_run
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Cancelled
from sqlalchemy import create_engine, func, select, text

from flows.reconcile import reconcile_lifecycles
from gridline.local_prefect import LocalPrefect
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
from tests.postgres import free_port

# Far from the demo's tickets (the ten days before now), so only our own fault tickets are "known".
FAULT_TIME = "2026-12-15T10:00:00+08:00"


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


@pytest.fixture(scope="module")
def centre(postgres_server, tmp_path_factory):
    db_url = _fresh_postgres_database(postgres_server)
    prefect_db = _fresh_postgres_database(postgres_server).replace("+psycopg", "+asyncpg")
    upgrade_schema(db_url)
    with session_scope(db_url) as session:
        ensure_default_rules(session)
        seed_demo(session, now=pendulum.now("UTC"), rules=load_rules(session),
                  calendar=load_work_calendar(session, "Asia/Shanghai"))
    root = tmp_path_factory.mktemp("prefect")
    lifecycles = centre_lifecycles(root / "lifecycles")
    prefect = LocalPrefect(root / "home", free_port(), server_database_url=prefect_db,
                           log_dir=root, env={"GRIDLINE_DATABASE_URL": db_url,
                                              "GRIDLINE_LIFECYCLES_DIR": str(lifecycles),
                                              "PREFECT_WORKER_QUERY_SECONDS": "0.5"})
    try:
        prefect.start_server()
        prefect.deploy("lifecycle/*")
        prefect.start_worker()
        yield Centre(prefect, db_url, lifecycles)
    finally:
        prefect.stop()


@pytest.fixture
def live(centre, monkeypatch):
    """This process talks to the centre's database and Prefect server, as the CLI would."""
    monkeypatch.setenv("GRIDLINE_DATABASE_URL", centre.db_url)
    monkeypatch.setenv("GRIDLINE_LIFECYCLES_DIR", str(centre.lifecycles))
    with temporary_settings({PREFECT_API_URL: centre.prefect.api_url}):
        yield centre


def create(capsys, ticket_type: str, region: str = "320102", **extra: str) -> str:
    args = ["ticket", "create", "--type", ticket_type, "--phone", "13812345678", "--name", "张三",
            "--address", "南京市玄武区中山路1号", "--content", f"{ticket_type}测试", "--region", region,
            "--json"]
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
             ("redispatch", {"department": "D3202-marketing", "note": "转无锡"}),
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


@pytest.fixture(scope="module")
def journeys(centre):
    """Every journey at once: each type to closed (the opinion returned and re-dispatched on the
    way), a complaint whose customer stays unsatisfied, a fault already reported in the area."""
    capsys = Capture()
    with pytest.MonkeyPatch.context() as patch, redirect_stdout(capsys.out), \
            redirect_stderr(capsys.err), \
            temporary_settings({PREFECT_API_URL: centre.prefect.api_url}):
        patch.setenv("GRIDLINE_DATABASE_URL", centre.db_url)
        patch.setenv("GRIDLINE_LIFECYCLES_DIR", str(centre.lifecycles))
        numbers = {t: create(capsys, t, **({"received_at": FAULT_TIME} if t == "fault_repair"
                                           else {})) for t in HAPPY}
        numbers["known_fault"] = create(capsys, "fault_repair", received_at="2026-12-15T10:20:00+08:00")
        numbers["reopening"] = create(capsys, "complaint")
        scripts = {numbers[t]: list(steps) for t, steps in HAPPY.items()}
        scripts[numbers["reopening"]] = list(REOPENING)
        started = time.monotonic()
        drive(capsys, centre.db_url, scripts)
        wait_closed(centre.db_url, list(numbers.values()))
    print(f"journeys closed in {time.monotonic() - started:.0f} s")
    return numbers


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


def test_every_type_runs_to_closed_through_step_complete(live, journeys):
    for ticket_type, actions in HAPPY.items():
        t = ticket(live.db_url, journeys[ticket_type])
        assert t["status"] == TicketStatus.closed and t["closed_at"] is not None, ticket_type
        assert [key for key, _, status in t["steps"] if status == "done"][-1] == "close"
        assert [key for key, _, _ in t["steps"] if key in dict(actions)] == [k for k, _ in actions]
        assert all(t["met"].values()), (ticket_type, t["met"])
        run = run_state(t["run"])
        assert run.state.type == StateType.COMPLETED and run.name == journeys[ticket_type]
        assert f"type:{ticket_type}" in run.tags and "region:320102" in run.tags
        assert any(tag.startswith("department:D") for tag in run.tags)


def test_departments_come_from_the_tickets_region(live, journeys):
    t = ticket(live.db_url, journeys["fault_repair"])
    assert t["departments"][("arrive", 1)] == "D320102-repair"
    assert ticket(live.db_url, journeys["complaint"])["departments"][("inspect", 1)] == "D3201-discipline"
    assert ticket(live.db_url, journeys["consultation"])["departments"][("answer", 1)] == "D32-CC"


def test_a_known_fault_is_linked_and_the_caller_told_without_a_crew(live, journeys):
    t = ticket(live.db_url, journeys["known_fault"])
    assert [key for key, _, _ in t["steps"]] == ["known_fault", "inform", "close"]
    assert any(journeys["fault_repair"] in message for _, message in t["events"])
    assert "known_fault" in t["messages"]
    assert "known_fault" not in ticket(live.db_url, journeys["fault_repair"])["messages"]


def test_a_return_is_re_dispatched_to_the_chosen_department(live, journeys):
    t = ticket(live.db_url, journeys["opinion"])
    assert t["departments"][("handle", 1)] == "D320102-marketing"
    assert t["departments"][("handle", 2)] == "D3202-marketing"
    kinds = [kind for kind, _ in t["events"]]
    assert "returned" in kinds
    assert any("转派至D3202-marketing" in message for _, message in t["events"])
    assert t["messages"].count("dispatch_notice") == 2  # each department told once


def test_an_unsatisfied_customer_reopens_up_to_the_limit_then_the_supervisor_decides(
        live, journeys):
    t = ticket(live.db_url, journeys["reopening"])
    assert [(k, a) for k, a, _ in t["steps"] if k == "handle"] == [("handle", 1), ("handle", 2)]
    assert [k for k, _, _ in t["steps"]][-2:] == ["escalate", "close"]
    assert sum("第1次重新处理" in m for _, m in t["events"]) == 1
    assert any("第2次不满意，升级处理" in m for _, m in t["events"])
    assert "reopen_escalation" in t["messages"]
    assert t["status"] == TicketStatus.closed


def test_re_runs_queue_each_message_once(live, journeys):
    """Every resume re-ran the flow from the top past all earlier steps: still one message per
    step and recipient, and one timeline entry per step opened."""
    for journey, number in journeys.items():
        t = ticket(live.db_url, number)
        opened = [kind for kind, _ in t["events"] if kind in ("step_opened", "branch", "notify",
                                                               "close")]
        assert len(opened) == len(t["steps"])
        closes_with_notice = journey not in ("consultation", "report")  # their pages send none
        assert t["messages"].count("closure_notice") == (1 if closes_with_notice else 0), journey
        assert t["messages"].count("customer_ack") == 1, journey
    with session_scope(live.db_url) as session:
        duplicates = session.scalar(select(func.count()).select_from(
            select(OutboxMessage.step_id, OutboxMessage.template, OutboxMessage.recipient)
            .where(OutboxMessage.step_id.is_not(None))
            .group_by(OutboxMessage.step_id, OutboxMessage.template, OutboxMessage.recipient)
            .having(func.count() > 1).subquery()))
    assert duplicates == 0


def test_an_invalid_form_or_a_step_not_open_is_refused_and_changes_nothing(live, capsys):
    number = create(capsys, "suggestion")
    step = wait_until_waiting(live.db_url, number, "handle")
    before = ticket(live.db_url, number)
    by = str(someone_from(live.db_url, step))
    bad = run_cli(capsys, "step", "complete", number, "handle", "--data",
                  '{"result": "不知道", "reply_text": ""}', "--by", by)
    assert bad.code == 2 and "result" in bad.err and "reply_text" in bad.err
    assert "已处理" in bad.err and len(bad.err.strip().splitlines()) == 1
    not_open = run_cli(capsys, "step", "complete", number, "reply", "--data",
                       '{"reply_text": "x"}', "--by", by)
    assert not_open.code == 2 and "reply" in not_open.err
    unknown_staff = run_cli(capsys, "step", "complete", number, "handle", "--data",
                                 '{"result": "退单", "reply_text": "不是我们的"}', "--by", "999999")
    assert unknown_staff.code == 2 and "field by" in unknown_staff.err
    assert ticket(live.db_url, number) == before
    assert run_state(before["run"]).state.is_paused()
    with pytest.raises(RuntimeError):  # the server checks a resume against the form's schema too
        resume_flow_run(UUID(before["run"]), run_input={"result": "不知道", "reply_text": "x"})
    assert ticket(live.db_url, number) == before


def test_an_admin_may_resume_from_the_prefect_ui_with_the_same_form(live, capsys):
    number = create(capsys, "suggestion")
    wait_until_waiting(live.db_url, number, "handle", timeout=90)
    run_id = UUID(ticket(live.db_url, number)["run"])
    with get_client(sync_client=True) as client:
        keyset = client.read_flow_run(run_id).state.state_details.run_input_keyset
        schema = client.read_flow_run_input(run_id, keyset["schema"])
        description = client.read_flow_run_input(run_id, keyset["description"])
    assert "处理结果" in schema and number in description
    resume_flow_run(run_id, run_input=REPLY)  # what the UI's resume button sends
    wait_until_waiting(live.db_url, number, "reply", timeout=90,
                       why="the run never went on to the reply step")
    events = ticket(live.db_url, number)["events"]
    assert any(kind == "step_done" and REPLY["reply_text"] in message for kind, message in events)


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
    step = wait_until_waiting(live.db_url, number, "handle")
    live.prefect.kill_worker()
    result = run_cli(capsys, "step", "complete", number, "handle", "--data",
                     json.dumps(REPLY, ensure_ascii=False), "--by", str(someone_from(live.db_url, step)))
    assert result.code == 0, result.err
    time.sleep(3)
    assert open_step(live.db_url, number) is None  # nobody runs it while the worker is down
    live.prefect.start_worker()
    drive(capsys, live.db_url, {number: [("reply", {"reply_text": "已答复"})]})
    wait_closed(live.db_url, [number])


def heartbeats_seen(api_url: str, run_id: str) -> int:
    """Heartbeat events the server holds for the run."""
    answer = httpx.post(f"{api_url}/events/filter", json={"filter": {
        "event": {"name": ["prefect.flow-run.heartbeat"]},
        "resource": {"id": [f"prefect.flow-run.{run_id}"]}}}, timeout=10)
    answer.raise_for_status()
    return answer.json()["total"]


def test_a_run_killed_while_it_works_is_marked_crashed_and_its_ticket_goes_on(live, capsys):
    number = create(capsys, "suggestion")
    step = wait_until_waiting(live.db_url, number, "handle", timeout=90)
    run_id = ticket(live.db_url, number)["run"]
    result = run_cli(capsys, "step", "complete", number, "handle", "--data",
                     json.dumps(REPLY, ensure_ascii=False), "--by", str(someone_from(live.db_url, step)))
    assert result.code == 0, result.err
    # Hold the steps table: the resumed run stops mid-step, alive and beating, until it is killed.
    engine = create_engine(live.db_url)
    with engine.connect() as holder:
        holder.execute(text("LOCK TABLE steps IN ACCESS EXCLUSIVE MODE"))
        deadline = time.monotonic() + 90
        while not (run_state(run_id).state.is_running() and heartbeats_seen(live.prefect.api_url,
                                                                             run_id)):
            assert time.monotonic() < deadline, "the resumed run never beat while it worked"
            time.sleep(0.5)
        # The machine goes down: worker and run die together, nobody reports the run's end.
        pid = int(run_state(run_id).infrastructure_pid.rsplit(":", 1)[-1])  # [host:]pid
        live.prefect.kill_worker()
        with suppress(ProcessLookupError):  # gone already if it shared the worker's group
            os.kill(pid, signal.SIGKILL)
        holder.rollback()
    engine.dispose()
    live.prefect.start_worker()  # the machine is back
    deadline = time.monotonic() + 240  # 90 s of silence, then the automation's next evaluation
    while (state := run_state(run_id).state).type != StateType.CRASHED:
        assert state.is_running(), f"the killed run should stay Running until marked: {state}"
        assert time.monotonic() < deadline, "the silent run was never marked Crashed"
        time.sleep(2)
    assert number in reconcile_lifecycles()
    drive(capsys, live.db_url, {number: [("reply", {"reply_text": "已答复"})]})
    wait_closed(live.db_url, [number])
    after = ticket(live.db_url, number)
    assert [k for k, _, _ in after["steps"]] == ["handle", "reply", "close"]  # handle not redone
    assert [k for k, _ in after["events"]].count("run_restarted") == 1
