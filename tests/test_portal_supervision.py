"""督办 that acts, ticket search and one set of signals, over HTTP on a real server, against real
SQLite and PostgreSQL: a chase reaches the person responsible and the timeline, a reassignment
reaches the new holder's inbox, both within the supervisor's scope only; search finds within the
reader's scope and exports what it shows; a stuck message can be sent again."""

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from models.messaging.outbox import OutboxMessage, OutboxStatus
from models.org.organisation import Region, Staff
from models.tickets.ticket import Event, Step, Ticket
from tasks.core.db import session_scope
from tasks.messaging.outbox import enqueue
from tasks.org.scope import region_subtree
from tests.cli import run_cli
from tests.portal import login, now_utc, portal_centre, post_form, serve
from tests.portal_day import DEPARTMENT, complaint_at, fixed_clock_app

NOW = now_utc()


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    return portal_centre(db_url, tmp_path, monkeypatch, PAGE_SIZE="2")


@pytest.fixture
def portal(centre):
    with serve(fixed_clock_app(NOW)) as base_url:
        yield base_url


def head_of(url, department: str) -> Staff:
    with session_scope(url) as session:
        staff = session.scalar(select(Staff).where(Staff.code == f"{department}-H"))
        session.expunge(staff)
        return staff


def chases(url, number: str) -> tuple[list[OutboxMessage], list[Event]]:
    with session_scope(url) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        messages = list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.ticket_id == ticket.id, OutboxMessage.template == "chase")))
        events = list(session.scalars(select(Event).where(Event.ticket_id == ticket.id,
                                                          Event.kind == "chased")))
        session.expunge_all()
        return messages, events


def test_a_chase_texts_the_person_responsible_once_and_is_in_the_timeline(portal, centre):
    number, _ = complaint_at(centre, "handle", NOW, due_in=-timedelta(hours=2))
    head = head_of(centre, DEPARTMENT)
    supervisor = login(portal, "S0001")
    listing = supervisor.get("/supervise").text
    row = listing.split(f'data-number="{number}"')[1].split("</tr>")[0]
    assert f"{head.name}（无锡市供电公司营销部）" in row and "已超期 2小时" in row, row
    chased = post_form(supervisor, "/supervise/chase",
                       {"number": number, "note": "请今天答复客户", "back": "/supervise"},
                       page="/supervise")
    assert chased.status_code == 303 and chased.headers["location"] == "/supervise"
    assert f"已催办工单 {number}：短信已排队发给{head.name}" in supervisor.get("/supervise").text
    again = post_form(supervisor, "/supervise/chase", {"number": number}, page="/supervise")
    assert again.status_code == 303  # a double click: the same minute, nothing more queued
    messages, events = chases(centre, number)
    assert [(m.recipient, m.channel.value, m.status) for m in messages] == [
        (head.phone, "sms", OutboxStatus.queued)]
    assert f"工单{number}" in messages[0].body_text and "督办意见：请今天答复客户" in messages[0].body_text
    assert len(events) == 1
    page = supervisor.get(f"/tickets/{number}").text
    assert f"催办{head.name}（无锡市供电公司营销部）：短信提醒尽快处理。督办意见：请今天答复客户" in page


def test_only_supervisors_chase_and_only_within_their_scope(portal, centre):
    number, step_id = complaint_at(centre, "handle", NOW, due_in=-timedelta(hours=2))
    agent = login(portal, "S0100")
    assert post_form(agent, "/supervise/chase", {"number": number}, page="/inbox").status_code == 403
    assert agent.get(f"/steps/{step_id}/reassign").status_code == 403
    assert post_form(agent, f"/steps/{step_id}/reassign",
                     {"department": "D320213-marketing", "reason": "x"},
                     page="/inbox").status_code == 403
    suzhou = login(portal, "SZ-S")  # another city's supervisor: not theirs to see
    refused = post_form(suzhou, "/supervise/chase", {"number": number}, page="/supervise")
    assert refused.status_code == 303
    assert "催办未发送：工单不存在或不在您的督办范围内" in suzhou.get("/supervise").text
    assert suzhou.get(f"/steps/{step_id}/reassign").status_code == 404
    assert chases(centre, number) == ([], [])


def holder(url, step_id: int) -> tuple[str, str | None]:
    with session_scope(url) as session:
        step = session.get(Step, step_id)
        return step.department.code, step.assignee.code if step.assignee else None


def test_a_reassigned_step_is_in_the_new_holders_inbox_and_the_timeline(portal, centre):
    number, step_id = complaint_at(centre, "handle", NOW)
    supervisor = login(portal, "S0001")
    form = supervisor.get(f"/steps/{step_id}/reassign").text
    assert ">梁溪区供电服务中心</option>" in form  # chosen by name
    with session_scope(centre) as session:
        person = session.scalar(select(Staff).where(Staff.code == "D320213-marketing-1"))
        name = person.name
    path = f"/steps/{step_id}/reassign"
    # A department not in the list, and no reason: refused beside the field, nothing written.
    outside = post_form(supervisor, path, {"department": "D9999-marketing", "reason": "试试"})
    assert outside.status_code == 422 and "接收部门不存在或不在您的督办范围内" in outside.text
    no_reason = post_form(supervisor, path, {"staff": "D320213-marketing-1", "reason": " "})
    assert no_reason.status_code == 422 and 'id="error-reason"' in no_reason.text
    assert holder(centre, step_id) == (DEPARTMENT, None)
    moved = post_form(supervisor, path, {"staff": "D320213-marketing-1", "reason": "属地在梁溪",
                                         "back": f"/tickets/{number}"})
    assert moved.status_code == 303 and moved.headers["location"] == f"/tickets/{number}"
    assert holder(centre, step_id) == ("D320213-marketing", "D320213-marketing-1")
    page = supervisor.get(f"/tickets/{number}").text
    assert (f"转派“责任部门处理”：无锡市供电公司营销部 → 梁溪区供电服务中心（{name}）。原因：属地在梁溪"
            in page)
    inbox = login(portal, "D320213-marketing-1").get("/inbox").text
    row = inbox.split(f'data-number="{number}"')[1].split("</tr>")[0]
    assert f'href="/steps/{step_id}"' in row and f"指派：{name}" in row
    old = login(portal, f"{DEPARTMENT}-1").get("/inbox").text
    assert f'data-number="{number}"' not in old


def test_a_head_reassigns_within_their_own_department_only(portal, centre):
    _, step_id = complaint_at(centre, "handle", NOW)
    head = login(portal, f"{DEPARTMENT}-H")
    form = head.get(f"/steps/{step_id}/reassign").text
    assert f'value="{DEPARTMENT}-2"' in form and 'value="D320213-marketing"' not in form
    path = f"/steps/{step_id}/reassign"
    refused = post_form(head, path, {"department": "D320213-marketing", "reason": "转县公司"})
    assert refused.status_code == 422
    assert post_form(head, path, {"staff": f"{DEPARTMENT}-2", "reason": "张工休假"}
                     ).status_code == 303
    assert holder(centre, step_id) == (DEPARTMENT, f"{DEPARTMENT}-2")


def test_the_cli_chases_and_reassigns_through_the_same_rules(centre, capsys):
    number, step_id = complaint_at(centre, "handle", NOW)
    assert run_cli(capsys, "ticket", "chase", number, "--by", "S0100").code == 2  # an agent
    done = run_cli(capsys, "ticket", "chase", number, "--by", "S0001", "--note", "尽快")
    assert done.code == 0 and f"已催办工单 {number}" in done.out
    moved = run_cli(capsys, "step", "reassign", number, "handle", "--by", "S0001",
                    "--department", "D320213-marketing", "--reason", "属地")
    assert moved.code == 0, moved.err
    assert holder(centre, step_id) == ("D320213-marketing", None)
    assert len(chases(centre, number)[0]) == 1


def cells_of(html: str, table: str) -> list[list[str]]:
    body = html.split(f'id="{table}"')[1].split("</table>")[0].split("<tbody>")[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [[re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for row in rows]


def test_search_finds_within_scope_pages_and_exports_what_it_shows(portal, centre):
    number, _ = complaint_at(centre, "handle", NOW, due_in=-timedelta(hours=1))
    agent = login(portal, "S0100")
    by_phone = agent.get("/search", params={"phone": "1234000"}).text
    assert cells_of(by_phone, "results")[0][:3] == [number, "投诉", "处理中"]
    assert "138****0000" in by_phone and "13812340000" not in by_phone
    late = agent.get("/search", params={"overdue": "1"}).text
    assert [row[0] for row in cells_of(late, "results")] == [number]
    assert cells_of(late, "results")[0][-1] == "已超期 1小时"
    wuxi = agent.get("/search", params={"unit": "3202"}).text
    with session_scope(centre) as session:
        city = session.scalar(select(Region.id).where(Region.code == "3202"))
        in_wuxi = session.scalar(select(func.count(Ticket.id)).where(
            Ticket.region_id.in_(region_subtree(session, city))))
    assert f'<span id="found">{in_wuxi}</span>' in wuxi
    assert len(cells_of(wuxi, "results")) == 2  # a page of PAGE_SIZE
    pages = [cells_of(agent.get("/search", params={"unit": "3202", "page": n}).text, "results")
             for n in range(1, -(-in_wuxi // 2) + 1)]
    screen = [row for page in pages for row in page]
    export = agent.get("/search/export.xlsx", params={"unit": "3202"})
    assert export.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = [[str(v) if v is not None else "" for v in row]
            for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["工单号", "类型", "状态", "受理时间", "客户", "电话", "单位", "内容", "最近期限",
                       "剩余时间"]
    assert rows[1:] == screen and len(screen) == in_wuxi
    # Another city's agent: the ticket is not found, and its page is a 404.
    suzhou = login(portal, "SZ-A")
    assert '<span id="found">0</span>' in suzhou.get("/search", params={"number": number}).text
    assert suzhou.get(f"/tickets/{number}").status_code == 404
    foreign = load_workbook(io.BytesIO(suzhou.get("/search/export.xlsx",
                                                  params={"number": number}).content)).active
    assert foreign.max_row == 1  # the header alone


def test_a_message_stuck_in_the_queue_can_be_sent_again(portal, centre):
    number, _ = complaint_at(centre, "handle", NOW)
    with session_scope(centre) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        context = {"ticket_no": number, "ticket_type": "投诉", "deadline": NOW}
        stuck = enqueue(session, key="test:stuck", channel="sms", recipient="13912345678",
                        template="customer_ack", now=NOW - timedelta(hours=1),
                        ticket_id=ticket.id, context=context)
        fresh = enqueue(session, key="test:fresh", channel="sms", recipient="13912345679",
                        template="customer_ack", now=NOW - timedelta(minutes=1),
                        ticket_id=ticket.id, context=context)
        session.flush()
        stuck_id, fresh_id, text = stuck.id, fresh.id, stuck.body_text
    supervisor = login(portal, "S0001")
    page = supervisor.get("/supervise", params={"status": "queued"}).text
    assert text in page  # the message's own words
    assert f'action="/outbox/{stuck_id}/retry"' in page
    assert f'action="/outbox/{fresh_id}/retry"' not in page
    assert post_form(supervisor, f"/outbox/{stuck_id}/retry", {},
                     page="/supervise").status_code == 303
    assert post_form(supervisor, f"/outbox/{fresh_id}/retry", {},
                     page="/supervise").status_code == 303
    assert "无需重试" in supervisor.get("/supervise").text
    with session_scope(centre) as session:
        assert session.get(OutboxMessage, stuck_id).next_attempt_at == NOW
        assert session.get(OutboxMessage, fresh_id).next_attempt_at == NOW - timedelta(minutes=1)


def test_one_clock_one_colour_and_no_deadline_is_not_green(portal, centre):
    # Due in 3 hours, warned 60 minutes before: green by the clock's own window, although the
    # portal's default warning (24 hours) would call it amber.
    number, step_id = complaint_at(centre, "review", NOW, due_in=timedelta(hours=3),
                                   warn_minutes=60)
    agent = login(portal, "S0100")
    ticket = agent.get(f"/tickets/{number}").text
    clock = ticket.split('data-clock="test_reply"')[1].split("</tr>")[0]
    assert '<span class="badge green">剩余 3小时</span>' in clock
    step = agent.get(f"/steps/{step_id}").text
    assert '<span id="step-signal"><span class="badge green">剩余 3小时</span></span>' in step
    inbox = agent.get("/inbox").text.split(f'data-number="{number}"')[1].split("</tr>")[0]
    assert '<span class="badge green">剩余 3小时</span>' in inbox
    with session_scope(centre) as session:
        session.get(Step, step_id).due_at = None
    step = agent.get(f"/steps/{step_id}").text
    assert '<span id="step-signal"><span class="badge none">无期限</span></span>' in step
