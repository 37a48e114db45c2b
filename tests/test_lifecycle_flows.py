"""Ticket lifecycles against a real Prefect server and the in-process lifecycle worker, driven by
`gridline step complete` as the centre and the departments would. One server, worker and Gridline
database (PostgreSQL, like a centre in production) serve the module; the journeys run side by
side."""

from contextlib import redirect_stderr, redirect_stdout
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.schemas.objects import StateType
from prefect.flow_runs import resume_flow_run
from sqlalchemy import func, select

from models.core.enums import TicketStatus
from models.messaging.outbox import OutboxMessage
from tasks.core.db import session_scope
from tests.cli import run_cli
from tests.lifecycle_harness import (
    FAULT_AT,
    FAULT_TIME,
    HAPPY,
    REOPENING,
    REPLY,
    Capture,
    create,
    drive,
    live_centre,
    run_state,
    running_centre,
    someone_from,
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


@pytest.fixture(scope="module")
def journeys(centre):
    """Every journey at once: each type to closed (the opinion returned and re-dispatched on the
    way), a complaint whose customer stays unsatisfied, a fault already reported in the area."""
    capsys = Capture()
    with live_centre(centre), redirect_stdout(capsys.out), redirect_stderr(capsys.err):
        numbers = {t: create(capsys, t, **({"received_at": FAULT_TIME} if t == "fault_repair"
                                           else {})) for t in HAPPY}
        numbers["known_fault"] = create(capsys, "fault_repair",
                                        received_at=FAULT_AT.add(minutes=20).isoformat())
        numbers["reopening"] = create(capsys, "complaint")
        scripts = {numbers[t]: list(steps) for t, steps in HAPPY.items()}
        scripts[numbers["reopening"]] = list(REOPENING)
        drive(capsys, centre.db_url, scripts)
        wait_closed(centre.db_url, list(numbers.values()))
    return numbers


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
    assert [key for key, _, _ in t["steps"]] == ["known_fault", "inform", "close_linked"]
    assert any(journeys["fault_repair"] in message for _, message in t["events"])
    assert t["messages"] == ["known_fault"]  # the receipt and the notice in one message
    assert "known_fault" not in ticket(live.db_url, journeys["fault_repair"])["messages"]


def test_a_return_is_re_dispatched_to_the_chosen_department(live, journeys):
    t = ticket(live.db_url, journeys["opinion"])
    assert t["departments"][("handle", 1)] == "D320102-marketing"
    assert t["departments"][("handle", 2)] == "D3201-marketing"
    kinds = [kind for kind, _ in t["events"]]
    assert "returned" in kinds
    assert any(message.startswith("中心转派。") and "派至南京市供电公司营销部" in message
               for _, message in t["events"])  # by name, as the portal shows it
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
        # Their pages send none; a linked fault's one message is its notice, at intake.
        closes_with_notice = journey not in ("consultation", "report", "known_fault")
        assert t["messages"].count("closure_notice") == (1 if closes_with_notice else 0), journey
        assert t["messages"].count("customer_ack") == (journey != "known_fault"), journey
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
