"""Fault repair by the norms, on SQLite and PostgreSQL (tickets walked as their run would walk
them, without Prefect): restoration counted from the recorded arrival, an arrival time checked,
one known-fault rule for the intake page and the lifecycle, a returned step listed as returned."""

from datetime import timedelta

import pendulum
import pytest
from sqlalchemy import delete, select

from flows.intake import open_ticket
from flows.lifecycle import lifecycles
from flows.steps import complete_step
from models.core.enums import StepStatus
from models.core.errors import InputError
from models.org.customer import Customer
from models.org.organisation import Staff
from models.tickets.lifecycle import Walk
from models.tickets.rules import DeadlineRule
from models.tickets.ticket import Event, Step, Ticket
from tasks.core.db import session_scope
from tasks.org.scope import Scope
from tasks.tickets import queries
from tasks.tickets.lifecycle_store import enter_step, find_step, outcome_of
from tasks.tickets.links import master_of
from tasks.tickets.rule_store import ensure_default_rules
from tasks.tickets.store import get_ticket
from tests.cli import run_cli

RESTORE_SPAN = {"urban": timedelta(hours=3), "rural": timedelta(hours=4),
                "remote": timedelta(hours=4)}
NOW = pendulum.now("UTC")


@pytest.fixture
def centre(db_url, capsys):
    assert run_cli(capsys, "demo", "seed", "--tickets", "0").code == 0  # only this test's tickets
    return db_url


def create(capsys, received_at, ticket_type="fault_repair", region="320102",
           phone="13812345678") -> str:
    result = run_cli(capsys, "ticket", "create", "--no-start", "--type", ticket_type,
                     "--phone", phone, "--name", "张三", "--address", "南京市玄武区中山路1号",
                     "--content", "家里停电了", "--region", region,
                     "--received-at", received_at.isoformat(), "--json")
    assert result.code == 0, result.err
    return result.json()["number"]


def advance(url: str, number: str) -> Step | None:
    """Walk the ticket as its run would: system steps recorded, up to its first open step."""
    with session_scope(url) as session:
        ticket = get_ticket(session, number)
        walk = Walk(lifecycles(session)[ticket.type])
        while walk.key is not None:
            step, attempt = walk.enter()
            row = find_step(session, ticket, step.key, attempt) or enter_step(
                session, ticket, walk, step, attempt, pendulum.now("UTC"))
            if row.status == StepStatus.open:
                return row
            walk.leave(step, outcome_of(row), row.form_data or {})
    return None


def someone_for(url: str, step: Step) -> int:
    with session_scope(url) as session:
        return step.assignee_id or session.scalar(
            select(Staff.id).where(Staff.department_id == step.department_id).order_by(Staff.id))


def finish(url: str, number: str, key: str, data: dict) -> None:
    """Complete the open step `key` as a person of its department, then walk on."""
    step = advance(url, number)
    assert step is not None and step.step_key == key
    complete_step(number, key, data, someone_for(url, step))
    advance(url, number)


def clocks(url: str, number: str) -> dict[str, tuple]:
    with session_scope(url) as session:
        ticket = get_ticket(session, number)
        return {c.clock: (c.due_at, c.met_at) for c in ticket.clocks} | {
            "_area": ticket.area_kind.value}


def test_restoration_is_due_a_span_after_the_recorded_arrival(centre, capsys):
    number = create(capsys, NOW - timedelta(hours=3))
    arrived = (NOW - timedelta(hours=2, minutes=26)).replace(microsecond=0)
    finish(centre, number, "arrive", {"arrived_at": arrived.isoformat(), "note": "熔断器熔断"})
    found = clocks(centre, number)
    assert found["arrive"][1] == arrived
    assert found["restore"] == (arrived + RESTORE_SPAN[found["_area"]], None)
    with session_scope(centre) as session:
        entry = session.scalar(select(Event.message).join(Ticket).where(
            Ticket.number == number, Event.kind == "step_done"))
    local = arrived.in_timezone("Asia/Shanghai").format("YYYY-MM-DD HH:mm")
    assert entry.startswith(f"抢修到达现场：熔断器熔断（到达时间{local}，恢复供电期限")


@pytest.mark.parametrize(("when", "message"), [
    ("in ten minutes", "时间不能晚于当前时间"),
    ("before the receipt", "时间不能早于工单受理时间"),
])
def test_an_arrival_in_the_future_or_before_the_receipt_is_refused_in_chinese(
        centre, capsys, when, message):
    # "the future" from the moment the test runs: NOW was read when the tests were collected
    arrived = pendulum.now("UTC") + timedelta(minutes=10) if when == "in ten minutes" \
        else NOW - timedelta(hours=4)
    number = create(capsys, NOW - timedelta(hours=3))
    step = advance(centre, number)
    before = clocks(centre, number)
    with pytest.raises(InputError) as refused:
        complete_step(number, "arrive", {"arrived_at": arrived.isoformat()},
                      someone_for(centre, step))
    assert message in refused.value.zh
    assert clocks(centre, number) == before
    with session_scope(centre) as session:
        assert session.get(Step, step.id).status == StepStatus.open


def test_an_arrival_left_empty_is_now(centre, capsys):
    number = create(capsys, NOW - timedelta(hours=1))
    finish(centre, number, "arrive", {})
    arrived = clocks(centre, number)["arrive"][1]
    assert NOW <= arrived <= pendulum.now("UTC")


def test_the_intake_list_and_the_lifecycle_agree_on_the_known_fault(centre, capsys):
    """One area's faults: open, restored (newer), too old, another area's. The intake page lists
    the open one only, and the next caller's ticket is linked to exactly that one."""
    received = NOW - timedelta(minutes=40)
    restored = create(capsys, received + timedelta(minutes=5))
    finish(centre, restored, "arrive", {})
    finish(centre, restored, "restore", {"cause": "熔断器老化"})
    open_fault = create(capsys, received)  # received before the restored one: not linked to it
    advance(centre, open_fault)
    too_old = create(capsys, NOW - timedelta(hours=5))
    advance(centre, too_old)
    elsewhere = create(capsys, received, region="320213")
    advance(centre, elsewhere)
    with session_scope(centre) as session:
        customer = session.scalar(select(Customer).where(Customer.region.has(code="320102"))
                                  .order_by(Customer.id))
        agent = session.scalar(select(Staff).where(Staff.code == "S0100"))
        listed = queries.caller(session, Scope(session, agent), customer.phone, 25, NOW).faults
        assert [t.number for t in listed] == [open_fault]
    caller = create(capsys, NOW)
    advance(centre, caller)
    with session_scope(centre) as session:
        linked = get_ticket(session, caller)
        assert [s.step_key for s in linked.steps] == ["known_fault", "inform", "close_linked"]
        assert master_of(session, linked.id).number == open_fault


def test_a_returned_step_is_listed_as_returned(centre, capsys):
    number = create(capsys, NOW - timedelta(hours=1), ticket_type="suggestion")
    step = advance(centre, number)
    finish(centre, number, "handle", {"result": "退单", "reply_text": "不属于本部门"})
    with session_scope(centre) as session:
        assert session.get(Step, step.id).status == StepStatus.returned
        rows, total = queries.inbox(session, step.department_id, status=StepStatus.returned,
                                    ticket_type=None, offset=0, limit=25)
    assert total == 1 and rows[0].number == number and rows[0].status == StepStatus.returned


def test_the_timeline_credits_the_agent_who_took_the_call_and_names_the_caller(centre):
    with session_scope(centre) as session:
        agent = session.scalar(select(Staff).where(Staff.code == "S0100"))
        ticket = open_ticket(session, {
            "type": "fault_repair", "phone": "13812345678", "name": "何磊敏",
            "address": "南京市玄武区中山路1号", "content": "家里停电了", "region": "320102"},
            now=NOW, start=False, scope=Scope(session, agent)).ticket
        [entry] = ticket.events
        assert (entry.actor_id, entry.actor) == (agent.id, agent.name)
        assert entry.message == "受理故障报修工单（电话），来电人何磊敏"


def test_a_database_of_the_default_version_gets_the_step_clocks_a_release_adds(db_url):
    with session_scope(db_url) as session:
        step_rules = select(DeadlineRule).where(DeadlineRule.starts_after == "step")
        added = {(r.ticket_type.value, r.clock) for r in session.scalars(step_rules)}
        session.execute(delete(DeadlineRule).where(DeadlineRule.starts_after == "step"))
    with session_scope(db_url) as session:
        ensure_default_rules(session)
    with session_scope(db_url) as session:
        assert {(r.ticket_type.value, r.clock) for r in session.scalars(step_rules)} == added
        assert len(added) == 5
