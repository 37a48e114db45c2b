"""What an admin sees of a ticket in the Prefect UI (its run's Chinese log lines, tags and
artifact), and the safety nets for runs that never started: a ticket without a run gets one from
the reconciler (a marketing import never), and a run its worker claimed and died on is picked up
again."""

import time
from datetime import timedelta
from uuid import UUID

import pendulum
import pytest
from prefect import get_client
from prefect.client.schemas.filters import (
    ArtifactCollectionFilter,
    ArtifactCollectionFilterKey,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.states import Pending
from sqlalchemy import select, update

from flows.reconcile import reconcile_lifecycles
from flows.story import artifact_key
from gridline.local_prefect import LIFECYCLE_POOL
from models.org.organisation import Department
from models.tickets.ticket import Ticket, TicketClock
from tasks.core.db import session_scope
from tests.cli import run_cli
from tests.lifecycle_harness import (
    REPLY,
    complete,
    create,
    live_centre,
    run_state,
    running_centre,
    ticket,
    wait_closed,
    wait_until_waiting,
)


@pytest.fixture(scope="module")
def centre(postgres_server, tmp_path_factory):
    yield from running_centre(postgres_server, tmp_path_factory)


@pytest.fixture
def live(centre):
    with live_centre(centre):
        yield centre


def story_lines(run_id: str, count: int, timeout: float = 60) -> list[str]:
    """The run's Gridline log lines (Chinese), once `count` have reached the server (the worker
    sends logs in batches)."""
    deadline = time.monotonic() + timeout
    while True:
        with get_client(sync_client=True) as client:
            logs = client.read_logs(log_filter=LogFilter(
                flow_run_id=LogFilterFlowRunId(any_=[UUID(run_id)])), limit=200)
        lines = [log.message for log in sorted(logs, key=lambda log: log.timestamp)
                 if log.message.startswith(("进入环节", "环节"))]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(1)


def gridline_tags(run_id: str) -> list[str]:
    """The run's tags that Gridline keeps (the deployment's own beside them)."""
    return sorted(t for t in run_state(run_id).tags
                  if t.startswith(("type:", "region:", "department:")) or t == "overdue")


def department_names(url: str, *codes: str) -> list[str]:
    with session_scope(url) as session:
        names = dict(session.execute(select(Department.code, Department.name)
                                     .where(Department.code.in_(codes))).all())
    return [names[code] for code in codes]


def artifact(number: str) -> str:
    with get_client(sync_client=True) as client:
        [latest] = client.read_latest_artifacts(artifact_filter=ArtifactCollectionFilter(
            key=ArtifactCollectionFilterKey(any_=[artifact_key(number)])))
    return latest.data


def test_the_run_tells_each_step_once_and_its_tags_follow_the_department(live, capsys):
    county, city = department_names(live.db_url, "D320102-marketing", "D3201-marketing")
    number = create(capsys, "opinion")
    run_id = ticket(live.db_url, number)["run"]
    wait_until_waiting(live.db_url, number, "handle")
    assert gridline_tags(run_id) == ["department:D320102-marketing", "region:320102",
                                     "type:opinion"]
    complete(capsys, live.db_url, number, "handle", {"result": "退单", "reply_text": "不属于本部门"})
    wait_until_waiting(live.db_url, number, "redispatch")
    complete(capsys, live.db_url, number, "redispatch",
             {"department": "D3201-marketing", "note": "转市公司"})
    wait_until_waiting(live.db_url, number, "handle")
    assert gridline_tags(run_id) == ["department:D3201-marketing", "region:320102",
                                     "type:opinion"]  # the department holding it now
    shown = artifact(number)
    assert f"| 业务部门处理 | 1 | {county} | " in shown and "| 中心转派 | 1 | " in shown
    assert f"| 业务部门处理 | 2 | {city} | — | 待处理 |" in shown
    complete(capsys, live.db_url, number, "handle", REPLY)
    wait_until_waiting(live.db_url, number, "reply")
    complete(capsys, live.db_url, number, "reply", {"reply_text": "已答复"})
    wait_closed(live.db_url, [number])
    lines = story_lines(run_id, 9)
    assert [line.split("：")[0] for line in lines] == [
        "进入环节“业务部门处理”", "环节“业务部门处理”办结", "进入环节“中心转派”", "环节“中心转派”办结",
        "进入环节“业务部门处理”", "环节“业务部门处理”办结", "进入环节“答复客户”", "环节“答复客户”办结",
        "环节“办结归档”"]
    assert lines[0].startswith(f"进入环节“业务部门处理”：处理部门 {county}，处理人 未指定，期限 20")
    assert f"，结果“退单”，处理部门 {county}，期限 20" in lines[1]
    assert lines[4].startswith(f"进入环节“业务部门处理”：处理部门 {city}，")
    assert "### 工单 " + number in artifact(number) and "已办结" in artifact(number)


def test_a_step_reassigned_by_a_supervisor_retags_the_waiting_run_at_once(live, capsys):
    number = create(capsys, "opinion")
    run_id = ticket(live.db_url, number)["run"]
    wait_until_waiting(live.db_url, number, "handle")
    moved = run_cli(capsys, "step", "reassign", number, "handle", "--by", "S0001",
                    "--department", "D3201-marketing", "--reason", "区县人手不足")
    assert moved.code == 0, moved.err
    assert gridline_tags(run_id) == ["department:D3201-marketing", "region:320102",
                                     "type:opinion"]
    assert run_state(run_id).state.is_paused()  # still waiting at the same step


def test_a_waiting_run_whose_clock_runs_late_is_tagged_overdue_by_the_reconciler(live, capsys):
    number = create(capsys, "suggestion")
    run_id = ticket(live.db_url, number)["run"]
    wait_until_waiting(live.db_url, number, "handle")
    assert "overdue" not in gridline_tags(run_id)
    with session_scope(live.db_url) as session:  # as if the days had passed
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
        session.execute(update(TicketClock).where(TicketClock.ticket_id == ticket_id)
                        .values(due_at=pendulum.now("UTC") - timedelta(hours=1)))
    assert reconcile_lifecycles() == []
    assert gridline_tags(run_id) == ["department:D320102-marketing", "overdue", "region:320102",
                                     "type:suggestion"]
    assert run_state(run_id).state.is_paused()


def test_a_ticket_saved_without_a_run_gets_one_but_a_marketing_import_never(live, capsys,
                                                                           tmp_path):
    number = create(capsys, "business", start=False)  # as while Prefect was away
    assert ticket(live.db_url, number)["run"] is None
    export = tmp_path / "export.csv"
    export.write_text("工单编号,业务类型,工单内容,受理时间,处理期限,工单状态,责任人,责任人电话\n"
                      "Y900,投诉,电压不稳,2026-11-20 10:00,2026-11-24 10:00,未处理,王工,13912345678\n",
                      encoding="utf-8")
    assert run_cli(capsys, "import", "tickets", str(export)).code == 0
    assert reconcile_lifecycles() == [number]
    started = ticket(live.db_url, number)
    # Once, in the timeline; the run may already have opened its first step after it.
    assert started["run"] is not None and started["events"].count(
        ("run_started", "工单尚无流程运行，已补启动")) == 1
    assert ticket(live.db_url, "Y900")["run"] is None
    wait_until_waiting(live.db_url, number, "handle", timeout=90)
    assert reconcile_lifecycles() == []  # started once
    complete(capsys, live.db_url, number, "handle", REPLY)
    wait_until_waiting(live.db_url, number, "callback")
    complete(capsys, live.db_url, number, "callback", {"result": "满意"})
    wait_closed(live.db_url, [number])
    assert ticket(live.db_url, "Y900")["run"] is None


def test_a_run_left_pending_by_a_worker_killed_before_starting_it_is_picked_up(live, capsys):
    live.prefect.kill_worker()
    try:
        number = create(capsys, "suggestion")
        run_id = ticket(live.db_url, number)["run"]
        with get_client(sync_client=True) as client:  # the claim the killed worker had made
            client.set_flow_run_state(UUID(run_id), Pending(), force=True)
        live.prefect.start_worker(env={"GRIDLINE_WORKER__PENDING_TIMEOUT_SECONDS": "5"})
        wait_until_waiting(live.db_url, number, "handle", timeout=120,
                           why="the run left Pending was never started")
        assert ticket(live.db_url, number)["steps"] == [("handle", 1, "open")]
    finally:
        live.prefect.kill_worker()
        live.prefect.start_worker(LIFECYCLE_POOL)
