"""Ticket association on SQLite and PostgreSQL: links one level deep (no chain, no cycle, one
master per ticket), suggestions of alike tickets, and a master's reply carried to each member
once however often it runs, the members' own deadlines untouched."""

import threading
import time

import pendulum
import pytest
from sqlalchemy import func, select

from flows.links import close_members_with
from flows.steps import complete_step
from models.core.enums import TicketStatus
from models.core.errors import InputError
from models.messaging.outbox import OutboxMessage
from models.tickets.links import LinkKind, TicketLink, similarity
from models.tickets.ticket import Event
from tasks.core.db import session_scope
from tasks.tickets import links
from tasks.tickets.store import get_ticket
from tests.cli import run_cli
from tests.test_fault_repair import advance, create, finish, someone_for

NOW = pendulum.now("UTC")


@pytest.fixture
def centre(db_url, capsys):
    assert run_cli(capsys, "demo", "seed", "--tickets", "0").code == 0
    return db_url


def complaint(capsys, content: str, minutes: int = 0, region: str = "320102",
              phone: str = "13812345678", ticket_type: str = "complaint") -> str:
    result = run_cli(capsys, "ticket", "create", "--no-start", "--type", ticket_type,
                     "--phone", phone, "--name", "张三", "--address", "南京市玄武区中山路1号",
                     "--content", content, "--region", region,
                     "--received-at", NOW.add(minutes=minutes).isoformat(), "--json")
    assert result.code == 0, result.err
    return result.json()["number"]


def link(url: str, master: str, member: str, kind=LinkKind.duplicate) -> str | None:
    """None when linked, else the reason it was refused (nothing written then)."""
    with session_scope(url) as session:
        try:
            links.link(session, get_ticket(session, master), get_ticket(session, member), kind,
                       by="S0100", now=NOW)
        except InputError as exc:
            session.rollback()
            return exc.zh
    return None


def link_count(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(TicketLink))


def test_links_are_one_level_deep_without_cycles(centre, capsys):
    a, b, c, d = (complaint(capsys, "抄表员态度恶劣", m) for m in range(4))
    assert link(centre, a, b) is None
    assert link(centre, a, c, LinkKind.same_problem) is None
    assert link(centre, b, a) == "主单本身是其他工单的从单，关联只允许一层"
    assert link(centre, d, a) == "该工单已是主单，不能再作为从单"
    assert link(centre, b, d) == "主单本身是其他工单的从单，关联只允许一层"
    assert link(centre, d, b) == "该工单已关联到其他主单"
    assert link(centre, a, a) == "工单不能关联自身"
    assert link_count(centre) == 2
    with session_scope(centre) as session:
        master = get_ticket(session, a)
        assert [t.number for t in links.members_of(session, master.id)] == [b, c]
        assert links.master_of(session, get_ticket(session, c).id).number == a


def test_suggestions_are_alike_tickets_of_the_same_area_type_and_day(centre, capsys):
    new = complaint(capsys, "营业厅工作人员态度恶劣，拒绝办理业务")
    alike = complaint(capsys, "营业厅工作人员态度很差，拒绝办理", minutes=-60, phone="13900001111")
    complaint(capsys, "路灯不亮", minutes=-30)  # unlike
    complaint(capsys, "营业厅工作人员态度恶劣，拒绝办理业务", minutes=-60 * 30)  # too early
    complaint(capsys, "营业厅工作人员态度恶劣，拒绝办理业务", region="320213")  # elsewhere
    create(capsys, NOW, phone="13900002222")  # another type
    with session_scope(centre) as session:
        found = links.suggestions(session, get_ticket(session, new))
        assert [t.number for t, _ in found] == [alike]
    assert similarity("营业厅态度恶劣", "营业厅态度恶劣") == 1.0


def test_a_masters_reply_reaches_each_member_once_and_leaves_their_deadlines(centre, capsys):
    master = complaint(capsys, "小区频繁停电")
    members = [complaint(capsys, "小区频繁停电", m, phone=f"1390000{m:04d}") for m in (1, 2)]
    for member in members:
        assert link(centre, master, member, LinkKind.member) is None
    with session_scope(centre) as session:
        before = {n: [(c.clock, c.due_at, c.met_at) for c in get_ticket(session, n).clocks]
                  for n in members}
    for _ in range(2):  # a re-run tells no one twice
        with session_scope(centre) as session:
            told = links.propagate_reply(session, get_ticket(session, master),
                                         "经核实为线路老化，已安排改造。", reply_id=7, now=NOW)
        assert told == (2 if _ == 0 else 0)
    with session_scope(centre) as session:
        for number in members:
            ticket = get_ticket(session, number)
            assert [(c.clock, c.due_at, c.met_at) for c in ticket.clocks] == before[number]
            assert session.scalars(select(OutboxMessage.body_text).where(
                OutboxMessage.ticket_id == ticket.id,
                OutboxMessage.template == "linked_reply")).all() == [
                f"【国网95598】尊敬的客户，您的工单{number}与工单{master}反映的是同一问题，现答复如下："
                f"经核实为线路老化，已安排改造。如有疑问请拨打95598。"]
            assert session.scalar(select(func.count()).select_from(Event).where(
                Event.ticket_id == ticket.id, Event.kind == "master_reply")) == 1


def test_a_master_does_not_close_while_a_member_is_open(centre, capsys):
    """The master's callback would close it: refused while the member is open, nothing written;
    once the member has closed (its own callback), the master closes."""
    reply = {"result": "已处理", "reply_text": "已为您办理。"}
    master, member = (complaint(capsys, "申请增容", m, phone=f"1390000{m:04d}",
                                ticket_type="business") for m in (0, 1))
    assert link(centre, master, member, LinkKind.member) is None
    for number in (master, member):
        finish(centre, number, "handle", reply)
    callback = advance(centre, master)
    with pytest.raises(InputError, match="still open") as refused:
        complete_step(master, "callback", {"result": "满意"}, someone_for(centre, callback))
    assert refused.value.zh == f"从单{member}尚未办结，主单暂不能办结"
    with session_scope(centre) as session:
        assert get_ticket(session, master).status == TicketStatus.awaiting_callback
    finish(centre, member, "callback", {"result": "满意"})
    finish(centre, master, "callback", {"result": "满意"})
    with session_scope(centre) as session:
        assert [get_ticket(session, n).status for n in (master, member)] == \
            [TicketStatus.closed, TicketStatus.closed]


def test_open_members_close_with_their_master_once(centre, capsys):
    """一并办结从单: the open member closes now (its step done, its clocks met, its customer told
    once); the member that closed by its own callback is passed by; a re-run changes nothing;
    then the master closes."""
    master, member, done = (complaint(capsys, "申请增容", m, phone=f"1390000{m:04d}",
                                      ticket_type="business") for m in (0, 1, 2))
    for number in (member, done):
        assert link(centre, master, number, LinkKind.member) is None
    for number in (master, member, done):
        finish(centre, number, "handle", {"result": "已处理", "reply_text": "已为您办理。"})
    finish(centre, done, "callback", {"result": "满意"})
    callback = advance(centre, master)
    assert close_members_with(master, "S0100") == [member]
    assert close_members_with(master, "S0100") == []  # a re-run closes and tells no one again
    complete_step(master, "callback", {"result": "满意"}, someone_for(centre, callback))
    advance(centre, master)
    with session_scope(centre) as session:
        closed = get_ticket(session, member)
        assert [get_ticket(session, n).status for n in (master, member, done)] == \
            [TicketStatus.closed] * 3
        assert [c.met_at is not None for c in closed.clocks] == [True] * len(closed.clocks)
        assert [(s.step_key, s.status.value, s.form_data["result"]) for s in closed.steps] == [
            ("handle", "done", "已处理"), ("callback", "done", "随主单办结")]
        assert session.scalars(select(OutboxMessage.body_text).where(
            OutboxMessage.ticket_id == closed.id, OutboxMessage.template == "closure_notice")
        ).all() == [f"【国网95598】尊敬的客户，您的工单{member}已办结。如有疑问请拨打95598，感谢您的支持！"]
        assert [e.message for e in closed.events if e.kind == "closed_with_master"] == [
            f"随主单{master}一并办结"]
        assert session.scalar(select(func.count()).select_from(Event).where(
            Event.ticket_id == get_ticket(session, master).id,
            Event.kind == "members_closed")) == 1


def test_two_people_closing_a_masters_members_at_once_close_each_member_once(centre, capsys):
    """The second 一并办结 waits for the first one's write and then finds the member closed: one
    timeline line, not two, although both read the member as open."""
    master, member = (complaint(capsys, "申请增容", m, phone=f"1390000{m:04d}",
                                ticket_type="business") for m in (0, 1))
    assert link(centre, master, member, LinkKind.member) is None
    second: list = []

    def close_too() -> None:
        with session_scope(centre) as session:
            second.extend(m.number for m in links.close_members(
                session, get_ticket(session, master), by="S0101", now=NOW))

    with session_scope(centre) as session:
        first = links.close_members(session, get_ticket(session, master), by="S0100", now=NOW)
        other = threading.Thread(target=close_too)
        other.start()
        time.sleep(1)  # the other reads the member as open, then waits for this write
        session.commit()
    other.join(60)
    assert ([m.number for m in first], second) == ([member], [])
    with session_scope(centre) as session:
        closed = get_ticket(session, member)
        assert [e.kind for e in closed.events].count("closed_with_master") == 1
        assert closed.status == TicketStatus.closed
