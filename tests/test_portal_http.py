"""The portal over HTTP on a real server, against real SQLite and PostgreSQL: logins, rights,
CSRF, escaping, inbox, intake and supervision."""

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models.core.enums import DepartmentKind, StepStatus, TicketStatus, TicketType
from models.messaging.outbox import OutboxMessage, OutboxStatus
from models.org.customer import Customer
from models.org.organisation import Department, Region
from models.tickets.ticket import Step, Ticket, TicketClock
from tasks.core.db import session_scope
from tasks.messaging.outbox import enqueue
from tests.cli import run_cli
from tests.portal import (
    a_ticket_in,
    browser,
    csrf_of,
    login,
    now_utc,
    open_step,
    portal_app,
    portal_centre,
    post_form,
    serve,
)


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    return portal_centre(db_url, tmp_path, monkeypatch, PAGE_SIZE="2", LOGIN_MAX_FAILURES="3")


def intake(client, **fields):
    data = {"type": "complaint", "urgency": "normal", "phone": "13812345678", "name": "张三",
            "address": "无锡市梁溪区人民路1号", "region": "320213", "content": "抄表员态度恶劣"}
    return post_form(client, "/intake", data | fields)


def ticket_count(url) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(Ticket))


def test_login_is_required_rate_limited_and_ends_with_logout(portal):
    anonymous = browser(portal)
    assert anonymous.get("/inbox").headers["location"] == "/login?next=/inbox"
    token = csrf_of(anonymous.get("/login").text)
    wrong = anonymous.post("/login", data={"code": "S0001", "password": "guess", "csrf": token})
    assert wrong.status_code == 401 and "工号或密码错误" in wrong.text
    unknown = anonymous.post("/login", data={"code": "NOBODY", "password": "x", "csrf": token})
    assert unknown.status_code == 401 and "工号或密码错误" in unknown.text
    anonymous.post("/login", data={"code": "S0001", "password": "guess", "csrf": token})
    anonymous.post("/login", data={"code": "S0001", "password": "guess", "csrf": token})
    # Three failures: even the right password is refused for a while.
    blocked = anonymous.post("/login", data={"code": "S0001", "password": "gridline-demo",
                                             "csrf": token})
    assert blocked.status_code == 429 and "次数过多" in blocked.text
    agent = login(portal, "S0100")
    inbox = agent.get("/inbox")
    assert inbox.status_code == 200 and "我的待办" in inbox.text
    assert post_form(agent, "/logout", {}, page="/inbox").status_code == 303
    assert agent.get("/inbox").status_code == 303


def test_failed_logins_count_across_portal_processes(centre):
    # Two portals on one database, as uvicorn's worker processes are: a guesser whose attempts
    # land on different workers is refused after three failures all the same.
    with serve(portal_app()) as first, serve(portal_app()) as second:
        for base in (first, second, first):
            client = browser(base)
            wrong = client.post("/login", data={"code": "S0001", "password": "guess",
                                                "csrf": csrf_of(client.get("/login").text)})
            assert wrong.status_code == 401
        client = browser(second)
        blocked = client.post("/login", data={"code": "S0001", "password": "gridline-demo",
                                              "csrf": csrf_of(client.get("/login").text)})
        assert blocked.status_code == 429 and "次数过多" in blocked.text
        assert login(first, "S0100").get("/inbox").status_code == 200  # others still log in


def test_forms_without_the_session_token_are_refused(portal, centre):
    agent = login(portal, "S0100")
    before = ticket_count(centre)
    data = {"type": "complaint", "phone": "13812345678", "name": "张三", "address": "某路1号",
            "content": "投诉", "region": "320213"}
    missing = agent.post("/intake", data=data)
    forged = agent.post("/intake", data=data | {"csrf": "forged-elsewhere"})
    assert missing.status_code == forged.status_code == 403
    assert "表单已失效" in forged.text
    assert ticket_count(centre) == before
    stranger = browser(portal)  # a login form posted from another site carries no token
    assert stranger.post("/login", data={"code": "S0001", "password": "gridline-demo"}
                         ).status_code == 403


# Every role, in a department other than the ticket's (Wuxi marketing) and in a region that
# does not cover Wuxi: nothing of the ticket or its step is shown.
OUTSIDERS = {"handler": "D3201-marketing-1", "head": "D3201-marketing-H", "agent": "SZ-A",
             "supervisor": "SZ-S", "admin": "SZ-ADM", "repair handler": "D320213-repair-1"}


def test_rights_matrix_every_role_against_another_departments_ticket_and_step(portal, centre):
    now = now_utc()
    number = a_ticket_in(centre, "320213")  # 梁溪区, Wuxi
    step_id = open_step(centre, number, "D3202-marketing", due_in=timedelta(hours=5), now=now)
    for role, code in OUTSIDERS.items():
        client = login(portal, code)
        token = csrf_of(client.get("/inbox").text)
        assert client.get(f"/tickets/{number}").status_code == 404, role
        assert client.get(f"/steps/{step_id}").status_code == 404, role
        posted = client.post(f"/steps/{step_id}", data={"csrf": token, "reply_text": "x"})
        assert posted.status_code == 404, role
        assert number not in client.get("/inbox").text, role
        assert number not in client.get("/inbox?status=open&page=1").text, role
        if role in ("head", "supervisor", "admin"):
            assert number not in client.get("/supervise").text, role
    # The department itself sees the ticket and may act; the province's centre sees it, but the
    # step belongs to the department.
    owner = login(portal, "D3202-marketing-1")
    assert owner.get(f"/tickets/{number}").status_code == 200
    assert number in owner.get("/inbox").text
    for code in ("S0001", "S0002", "S0100"):
        client = login(portal, code)
        token = csrf_of(client.get("/inbox").text)
        assert client.get(f"/tickets/{number}").status_code == 200, code
        assert client.get(f"/steps/{step_id}").status_code == 403, code
        refused = client.post(f"/steps/{step_id}", data={"csrf": token, "reply_text": "x"})
        assert refused.status_code == 403 and "其他部门" in refused.text, code


def test_pages_refused_by_role(portal):
    handler = login(portal, "D3202-marketing-1")
    assert handler.get("/intake").status_code == 403
    assert handler.get("/supervise").status_code == 403
    assert login(portal, "S0100").get("/supervise").status_code == 403


def test_script_in_ticket_content_is_shown_as_text(portal, centre):
    agent = login(portal, "S0100")
    created = intake(agent, content='<script>alert("xss")</script>停电')
    assert created.status_code == 303
    page = agent.get(created.headers["location"]).text
    assert '<script>alert("xss")</script>' not in page
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;停电" in page


def test_intake_recognises_the_caller_and_shows_open_tickets_and_known_faults(portal, centre):
    with session_scope(centre) as session:
        customer = session.scalars(select(Customer).order_by(Customer.id)).first()
        phone, name, address, region_id = (customer.phone, customer.name, customer.address,
                                           customer.region_id)
        region_code = customer.region.code
    agent = login(portal, "S0100")
    first = intake(agent, phone=phone, name=name, address=address, region=region_code,
                   type="fault_repair", content="整栋楼停电")
    number = first.headers["location"].rsplit("/", 1)[1]
    page = agent.get(f"/intake?phone={phone}").text
    assert f'id="name" name="name" value="{name}"' in page
    assert f'id="address" name="address" value="{address}"' in page
    assert f'value="{region_code}" selected' in page
    open_tickets = page.split('id="open-tickets"')[1].split("</ul>")[0]
    faults = page.split('id="known-faults"')[1].split("</ul>")[0]
    assert number in open_tickets and number in faults
    # An unknown number: nothing filled in, nothing listed; a bad one is said beside the field.
    stranger = agent.get("/intake?phone=13011112222").text
    assert "未找到该号码的客户档案" in stranger and 'name="name" value=""' in stranger
    bad = agent.get("/intake?phone=12345").text
    assert 'id="error-phone"' in bad and "电话号码无效" in bad
    refused = intake(agent, phone=phone, address="来电人说的新地址", content="")
    assert refused.status_code == 422 and 'id="error-content"' in refused.text
    assert 'value="来电人说的新地址"' in refused.text  # what was typed stays
    with session_scope(centre) as session:
        created = session.scalar(select(Ticket).where(Ticket.number == number))
        assert created.customer_id is not None and created.region_id == region_id


def test_inbox_lists_my_open_steps_soonest_due_first_with_colours_filters_and_pages(portal, centre):
    now = now_utc()
    with session_scope(centre) as session:
        complaint = session.scalar(select(Ticket.number).where(Ticket.type == TicketType.complaint))
        report, other = session.scalars(select(Ticket.number).where(
            Ticket.type == TicketType.report).limit(2)).all()
    later = open_step(centre, complaint, "D3202-marketing", due_in=timedelta(days=3), now=now)
    overdue = open_step(centre, report, "D3202-marketing", due_in=-timedelta(hours=2), now=now)
    soon = open_step(centre, complaint, "D3202-marketing", due_in=timedelta(hours=3), now=now,
                     step_key="inspect")
    open_step(centre, other, "D3201-marketing", due_in=timedelta(hours=1), now=now)
    handler = login(portal, "D3202-marketing-1")
    first = handler.get("/inbox").text
    assert "共 3 条" in first and "第 1 / 2 页" in first  # page size 2 in this test
    rows = first.split('<tbody>')[1].split('</tbody>')[0].split("<tr ")[1:]
    assert [f"/steps/{overdue}" in rows[0], f"/steps/{soon}" in rows[1]] == [True, True]
    assert 'class="red"' in rows[0] and "已超期" in rows[0]
    assert 'class="amber"' in rows[1] and "剩余" in rows[1]
    second = handler.get("/inbox?page=2").text
    assert f"/steps/{later}" in second and 'class="green"' in second
    reports = handler.get("/inbox?type=report").text
    assert "共 1 条" in reports and f"/steps/{overdue}" in reports
    assert "共 0 条" in handler.get("/inbox?status=done").text


def test_supervisors_see_overdue_and_expiring_deadlines_and_the_outbox_of_their_scope(
        portal, centre):
    now = now_utc()
    wuxi = a_ticket_in(centre, "320213")
    with session_scope(centre) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == wuxi))
        ticket.status = TicketStatus.in_progress
        ticket.clocks += [
            TicketClock(clock="late", label="联系客户", due_at=now - timedelta(days=30),
                        warn_minutes=1440),
            TicketClock(clock="soon", label="处理答复", due_at=now + timedelta(hours=3),
                        warn_minutes=1440)]
        message = enqueue(session, key=f"test:{wuxi}:overdue", channel="sms",
                          recipient="13912345678", template="overdue", now=now,
                          ticket_id=ticket.id, context={
                              "ticket_no": wuxi, "content": ticket.content, "deadline": now,
                              "overdue_by": "2小时"})
        message.status, message.attempts, message.last_error = (
            OutboxStatus.failed, 2, "gateway said 503")
        in_wuxi = set(session.scalars(select(Ticket.number).join(Ticket.region)
                                      .where(Region.code.like("3202%"))))
    province = login(portal, "S0001").get("/supervise").text
    suzhou = login(portal, "SZ-S").get("/supervise").text
    at_risk = province.split('id="at-risk"')[1].split("</table>")[0]
    overdue, expiring = at_risk.split("<tr ")[1:3]  # earliest due first
    assert wuxi in overdue and "已超期 30天</span>" in overdue and 'class="red"' in overdue
    assert wuxi in expiring and "剩余 2小时59分" in expiring and 'class="amber"' in expiring
    undelivered = province.split('id="undelivered"')[1].split("</table>")[0]
    assert wuxi in undelivered and "139****5678" in undelivered
    assert "gateway said 503" in undelivered
    assert "13912345678" not in province
    assert not any(number in suzhou.split('id="at-risk"')[1] for number in in_wuxi)
    assert "gateway said 503" not in suzhou


def test_a_supervisor_sends_an_undelivered_message_again(portal, centre):
    wuxi = a_ticket_in(centre, "320213")
    with session_scope(centre) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == wuxi))
        message = enqueue(session, key=f"test:{wuxi}:ack", channel="sms", recipient="13912345678",
                          template="customer_ack", now=now_utc(), ticket_id=ticket.id,
                          context={"ticket_no": wuxi, "ticket_type": "投诉", "deadline": now_utc()})
        message.status, message.attempts, message.last_error = (
            OutboxStatus.dead, 6, "空号 | number does not exist")
        message_id = message.id
    retry = f"/outbox/{message_id}/retry"
    # An agent may not, nor a supervisor of another city (the message is not theirs to see).
    assert post_form(login(portal, "S0100"), retry, {}, page="/inbox").status_code == 403
    assert post_form(login(portal, "SZ-S"), retry, {}, page="/supervise").status_code == 404
    supervisor = login(portal, "S0001")
    assert supervisor.post(retry, data={"csrf": "forged"}).status_code == 403
    assert f'action="{retry}"' in supervisor.get("/supervise").text
    sent_again = post_form(supervisor, retry, {}, page="/supervise")
    assert sent_again.status_code == 303
    page = supervisor.get("/supervise").text
    assert f"消息 #{message_id} 已重新排队" in page and f'action="{retry}"' not in page
    with session_scope(centre) as session:
        message = session.get(OutboxMessage, message_id)
        assert (message.status, message.attempts) == (OutboxStatus.queued, 0)
    again = post_form(supervisor, retry, {}, page="/supervise")  # queued already: nothing to do
    assert again.status_code == 303 and "无需重试" in supervisor.get("/supervise").text


def test_user_add_creates_a_portal_login(portal, capsys, monkeypatch):
    args = ["user", "add", "N001", "--name", "新坐席", "--role", "agent", "--department", "D32-CC",
            "--phone", "139-1234-5678", "--password-stdin"]

    def add(*argv, password="long-enough-1"):
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        return run_cli(capsys, *argv)

    created = add(*args)
    assert created.code == 0, created.err
    assert "新坐席" in login(portal, "N001", "long-enough-1").get("/inbox").text
    again = add(*args)
    assert again.code == 2 and "工号已存在" in again.err
    short = add("user", "add", "N002", *args[3:], password="short")
    assert short.code == 2 and "password" in short.err
    role = add("user", "add", "N003", "--name", "x", "--role", "boss", "--department",
               "D32-CC", "--phone", "13912345678", "--password-stdin")
    assert role.code == 2 and "role" in role.err


def test_step_form_refuses_bad_input_beside_the_field_then_completes_once(portal, centre):
    now = now_utc()
    number = a_ticket_in(centre, "320213")
    step_id = open_step(centre, number, "D3202-marketing", due_in=timedelta(hours=5), now=now)
    handler = login(portal, "D3202-marketing-1")
    form = handler.get(f"/steps/{step_id}").text
    assert "处理结果" in form and "退单须说明原因" in form  # title and help text of the field
    assert '<option value="已处理"' in form and "<textarea" in form
    refused = post_form(handler, f"/steps/{step_id}", {"result": "已处理", "reply_text": ""})
    assert refused.status_code == 422
    assert 'id="error-reply_text"' in refused.text and 'id="error-result"' not in refused.text
    assert '<option value="已处理" selected' in refused.text  # what was chosen stays
    done = post_form(handler, f"/steps/{step_id}",
                     {"result": "已处理", "reply_text": "已向客户致歉，并对抄表员批评教育"})
    assert done.status_code == 303 and done.headers["location"] == "/inbox"
    inbox = handler.get("/inbox").text
    assert "已提交" in inbox and f"/steps/{step_id}" not in inbox
    with session_scope(centre) as session:
        step = session.get(Step, step_id)
        assert step.status == StepStatus.done and step.completed_by.code == "D3202-marketing-1"
        assert step.form_data["reply_text"] == "已向客户致歉，并对抄表员批评教育"
    again = post_form(handler, f"/steps/{step_id}", {"result": "退单", "reply_text": "重复"},
                      page="/inbox")
    assert again.status_code == 409 and "无需再次提交" in again.text
    assert "无需再次提交" in handler.get(f"/steps/{step_id}").text
    with session_scope(centre) as session:
        assert session.get(Step, step_id).form_data["reply_text"].startswith("已向客户致歉")


def test_every_department_sees_only_its_own_tickets_and_steps(portal, centre):
    """The whole matrix: one step for each department on a ticket of its own; a head or handler of
    every department, and the Suzhou centre's agent, supervisor and admin, against every step. A step's page
    says both rights at once: 200 to act on it, 403 to see its ticket only, 404 to know nothing."""
    now = now_utc()
    with session_scope(centre) as session:
        departments = session.scalars(select(Department.code).where(  # those steps go to
            Department.kind.not_in([DepartmentKind.service_centre, DepartmentKind.quality]))
            .order_by(Department.code)).all()
        tickets = session.execute(select(Ticket.number, Region.code).join(Ticket.region)
                                  .order_by(Ticket.id).limit(len(departments))).all()
    owner = {}  # ticket number -> (department, step id)
    for code, (number, _) in zip(departments, tickets, strict=True):
        owner[number] = code, open_step(centre, number, code, due_in=timedelta(hours=5), now=now)
    in_suzhou = {number for number, region in tickets if region.startswith("3205")}
    # Heads and handlers by turns: each role meets every other department's steps.
    users = {f"{code}-{'H1'[i % 2]}": {n for n, (d, _) in owner.items() if d == code}
             for i, code in enumerate(departments)}
    users |= {code: in_suzhou for code in ("SZ-A", "SZ-S", "SZ-ADM")}
    for user, visible in users.items():
        client = login(portal, user)
        for number, (department, step_id) in owner.items():
            own = user.startswith(department + "-")
            expected = 200 if own else 403 if number in visible else 404
            assert client.get(f"/steps/{step_id}").status_code == expected, (user, number)
