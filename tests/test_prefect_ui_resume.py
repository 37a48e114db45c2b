"""The Prefect UI's resume path checks a step's form as the portal does: a refused input writes
nothing and suspends the run again, with the reason in the run's log; a valid one goes on.
Runs on the centre of tests/test_lifecycle_flows.py (a real Prefect server, worker, PostgreSQL)."""

import json
import time
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.flow_runs import resume_flow_run

from tests import test_lifecycle_flows as lifecycle_tests
from tests.cli import run_cli
from tests.test_lifecycle_flows import create, someone_from, ticket, wait_until_waiting

centre, live = lifecycle_tests.centre, lifecycle_tests.live  # its fixtures: one centre per module

REFUSED = "Prefect 界面提交的“业务部门处理”表单未通过校验：reply_text：不能为空；流程已重新挂起，等待有效的输入"
CHAIN = ["玄武区供电服务中心", "玄武区抢修班", "南京市供电公司营销部", "南京市供电公司计量中心",
         "南京市供电公司纪检监察室"]  # the departments of 320102 and the city above it


def run_log(run_id: UUID) -> list[str]:
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
    return [log.message for log in logs]


def wait_for_log(run_id: UUID, message: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while message not in run_log(run_id):
        assert time.monotonic() < deadline, f"never logged: {message}"
        time.sleep(0.5)


def form_of(run_id: UUID) -> tuple[dict, str]:
    """The schema of the form the run waits on, and the text above it."""
    with get_client(sync_client=True) as client:
        keyset = client.read_flow_run(run_id).state.state_details.run_input_keyset
        schema = json.loads(client.read_flow_run_input(run_id, keyset["schema"]))
        return schema, client.read_flow_run_input(run_id, keyset["description"])


def test_the_prefect_ui_form_is_the_declared_one_with_departments_by_name(live, capsys):
    number = create(capsys, "suggestion")
    step = wait_until_waiting(live.db_url, number, "handle", timeout=90)
    returned = run_cli(capsys, "step", "complete", number, "handle", "--data",
                       json.dumps({"result": "退单", "reply_text": "不属于本部门"}, ensure_ascii=False),
                       "--by", str(someone_from(live.db_url, step)))
    assert returned.code == 0, returned.err
    wait_until_waiting(live.db_url, number, "redispatch", timeout=90)
    before = ticket(live.db_url, number)
    run_id = UUID(before["run"])
    schema, _ = form_of(run_id)
    assert schema["properties"]["department"]["enum"] == CHAIN  # a list, never a typed code
    assert schema["properties"]["department"]["title"] == "接收部门"

    with pytest.raises(RuntimeError, match="Cannot resume"):  # Prefect checks the schema itself
        resume_flow_run(run_id, run_input={"department": "D9999-nowhere", "note": "转无锡"})
    assert ticket(live.db_url, number) == before  # nothing recorded
    resume_flow_run(run_id, run_input={"department": "南京市供电公司营销部", "note": "转市公司"})
    wait_until_waiting(live.db_url, number, "handle", timeout=90,
                       why="a department chosen by name did not send the ticket on")
    after = ticket(live.db_url, number)
    assert after["departments"][("handle", 2)] == "D3201-marketing"  # stored as its code
    assert [s for s in after["steps"] if s[0] == "redispatch"] == [("redispatch", 1, "done")]

    # What the schema lets through but the form refuses (a blank reply) suspends the run again.
    resume_flow_run(run_id, run_input={"result": "已处理", "reply_text": "   "})
    wait_for_log(run_id, REFUSED)
    wait_until_waiting(live.db_url, number, "handle", timeout=90,
                       why="the run did not wait again at the handle step")
    assert ticket(live.db_url, number) == after
    assert "上次提交未通过校验：reply_text：不能为空" in form_of(run_id)[1]
    resume_flow_run(run_id, run_input={"result": "已处理", "reply_text": "已办理"})
    wait_until_waiting(live.db_url, number, "reply", timeout=90,
                       why="a valid reply did not send the ticket on")
    assert run_log(run_id).count(REFUSED) == 1
