"""Fault repair on a real Prefect server and the in-process lifecycle worker: a neighbour's call
linked to the known fault and told once, restoration counted from the arrival the crew records,
a later call not linked to the restored fault, the linked ticket's clocks met when the known
fault closes, and a customer not reached at callback called again before the ticket closes."""

from contextlib import redirect_stderr, redirect_stdout
from datetime import timedelta

import pendulum
import pytest
from sqlalchemy import select

from models.core.enums import TicketStatus
from models.tickets.ticket import Ticket
from tasks.core.db import session_scope
from tests.lifecycle_harness import (
    FAULT_AT,
    Capture,
    create,
    drive,
    live_centre,
    running_centre,
    ticket,
    wait_closed,
    wait_until_waiting,
)

TRIES = 3
UNREACHED = {"result": "联系不上", "note": "电话无人接听"}
ARRIVED = FAULT_AT.add(minutes=32)


@pytest.fixture(scope="module")
def centre(postgres_server, tmp_path_factory):
    yield from running_centre(postgres_server, tmp_path_factory, env={
        "GRIDLINE_CALLBACK__TRIES": str(TRIES), "GRIDLINE_CALLBACK__RETRY_MINUTES": "0.25"})


def clocks(url: str, number: str) -> dict[str, tuple]:
    with session_scope(url) as session:
        t = session.scalar(select(Ticket).where(Ticket.number == number))
        return {c.clock: (c.due_at, c.met_at) for c in t.clocks}


@pytest.fixture(scope="module")
def journey(centre):
    """The known fault's ticket, a neighbour's call 20 minutes later, the crew's recorded arrival,
    a call after the restoration, then three callbacks nobody answers."""
    capsys, seen = Capture(), {}
    with live_centre(centre), redirect_stdout(capsys.out), redirect_stderr(capsys.err):
        url = centre.db_url
        seen["master"] = master = create(capsys, "fault_repair", received_at=FAULT_AT.isoformat())
        wait_until_waiting(url, master, "arrive")
        seen["neighbour"] = neighbour = create(
            capsys, "fault_repair", received_at=FAULT_AT.add(minutes=20).isoformat())
        wait_closed(url, [neighbour])
        seen["neighbour_while_open"] = clocks(url, neighbour)
        drive(capsys, url, {master: [
            ("arrive", {"arrived_at": ARRIVED.isoformat(), "note": "线路断线"}),
            ("restore", {"cause": "大风刮断导线", "note": "已重新架设"})]})
        seen["master_restored"] = clocks(url, master)
        seen["later"] = later = create(capsys, "fault_repair",
                                       received_at=FAULT_AT.add(minutes=40).isoformat())
        wait_until_waiting(url, later, "arrive")
        drive(capsys, url, {master: [("callback", UNREACHED)] * TRIES})
        wait_closed(url, [master])
    return seen


def test_the_neighbour_is_linked_and_told_once_at_intake(centre, journey):
    t = ticket(centre.db_url, journey["neighbour"])
    assert [key for key, _, _ in t["steps"]] == ["known_fault", "inform", "close_linked"]
    assert t["messages"] == ["known_fault"]
    assert journey["neighbour_while_open"] and all(
        met is None for _, met in journey["neighbour_while_open"].values())


def test_restoration_is_due_a_span_after_the_recorded_arrival(centre, journey):
    arrive, restore = journey["master_restored"]["arrive"], journey["master_restored"]["restore"]
    assert arrive[1] == ARRIVED
    with session_scope(centre.db_url) as session:
        area = session.scalar(select(Ticket.area_kind).where(Ticket.number == journey["master"]))
    assert restore[0] == ARRIVED + {"urban": timedelta(hours=3)}.get(area.value,
                                                                      timedelta(hours=4))
    assert restore[1] is not None


def test_a_call_after_the_restoration_is_not_linked_to_the_restored_fault(centre, journey):
    t = ticket(centre.db_url, journey["later"])
    assert [key for key, _, _ in t["steps"]][:2] == ["known_fault", "arrive"]
    assert ("branch", "查询已知故障：未发现已知故障") in t["events"]


def test_the_neighbours_clocks_are_met_when_the_known_fault_closes(centre, journey):
    master, neighbour = clocks(centre.db_url, journey["master"]), \
        clocks(centre.db_url, journey["neighbour"])
    with session_scope(centre.db_url) as session:
        received = session.scalar(select(Ticket.received_at)
                                  .where(Ticket.number == journey["neighbour"]))
    assert {name: met for name, (_, met) in neighbour.items()} == {
        name: max(master[name][1], received) for name in neighbour}
    events = ticket(centre.db_url, journey["neighbour"])["events"]
    assert events.count(("linked_met", f"关联的故障工单{journey['master']}已办结，本单期限随之完成")) == 1


def test_a_customer_not_reached_is_called_again_then_the_ticket_closes_unreachable(
        centre, journey):
    t = ticket(centre.db_url, journey["master"])
    assert [(k, a) for k, a, _ in t["steps"] if k == "callback"] == [
        ("callback", n) for n in range(1, TRIES + 1)]
    assert t["status"] == TicketStatus.closed and t["steps"][-1][0] == "close"
    scheduled = [m for kind, m in t["events"] if kind == "retry_scheduled"]
    assert [m.split("，")[0] for m in scheduled] == ["回访客户：第1次未联系上", "回访客户：第2次未联系上"]
    assert sum(m.startswith("第1次回访客户联系不上，第2次回访客户。回访客户：派至")
               for _, m in t["events"]) == 1
    assert sum(f"回访客户{TRIES}次均联系不上，按联系不上办结" in m for _, m in t["events"]) == 1
    assert t["messages"].count("closure_notice") == 1


def test_the_timeline_says_when_the_crew_arrived_and_the_new_restore_due(centre, journey):
    """The recorded arrival is the crew's: the timeline says when, and the new restore due."""
    events = ticket(centre.db_url, journey["master"])["events"]
    local = pendulum.instance(ARRIVED).in_timezone("Asia/Shanghai").format("YYYY-MM-DD HH:mm")
    assert sum(m.startswith(f"抢修到达现场：线路断线（到达时间{local}，恢复供电期限") for _, m in events) == 1
