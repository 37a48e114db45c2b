"""The Prefect UI's resume path checks a step's form as the portal does: a refused input writes
nothing and suspends the run again, with the reason in the run's log; a valid one goes on.
Runs on the centre of tests/test_lifecycle_flows.py (a real Prefect server, worker, PostgreSQL)."""

import json
import time
from uuid import UUID

from prefect import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.flow_runs import resume_flow_run

from tests import test_lifecycle_flows as lifecycle_tests
from tests.cli import run_cli
from tests.test_lifecycle_flows import create, someone_from, ticket, wait_until_waiting

centre, live = lifecycle_tests.centre, lifecycle_tests.live  # its fixtures: one centre per module

REFUSED = "Prefect 界面提交的“中心转派”表单未通过校验：department：部门编码不存在；流程已重新挂起，等待有效的输入"


def run_log(run_id: UUID) -> list[str]:
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
    return [log.message for log in logs]


def wait_for_log(run_id: UUID, message: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while message not in run_log(run_id):
        assert time.monotonic() < deadline, f"never logged: {message}"
        time.sleep(0.5)


def test_an_unknown_department_from_the_prefect_ui_suspends_the_run_again(live, capsys):
    number = create(capsys, "suggestion")
    step = wait_until_waiting(live.db_url, number, "handle", timeout=90)
    returned = run_cli(capsys, "step", "complete", number, "handle", "--data",
                       json.dumps({"result": "退单", "reply_text": "不属于本部门"}, ensure_ascii=False),
                       "--by", str(someone_from(live.db_url, step)))
    assert returned.code == 0, returned.err
    wait_until_waiting(live.db_url, number, "redispatch", timeout=90)
    before = ticket(live.db_url, number)
    run_id = UUID(before["run"])

    resume_flow_run(run_id, run_input={"department": "D9999-nowhere", "note": "转无锡"})
    wait_for_log(run_id, REFUSED)
    wait_until_waiting(live.db_url, number, "redispatch", timeout=90,
                       why="the run did not wait again at the redispatch step")
    assert ticket(live.db_url, number) == before  # nothing recorded
    with get_client(sync_client=True) as client:  # the form says why, above its fields
        keyset = client.read_flow_run(run_id).state.state_details.run_input_keyset
        description = client.read_flow_run_input(run_id, keyset["description"])
    assert "上次提交未通过校验：department：部门编码不存在" in description

    resume_flow_run(run_id, run_input={"department": "D3202-marketing", "note": "转无锡"})
    wait_until_waiting(live.db_url, number, "handle", timeout=90,
                       why="a valid department did not send the ticket on")
    after = ticket(live.db_url, number)
    assert after["departments"][("handle", 2)] == "D3202-marketing"
    assert [s for s in after["steps"] if s[0] == "redispatch"] == [("redispatch", 1, "done")]
    assert run_log(run_id).count(REFUSED) == 1
