"""The outage board and the ticket page's suggested links on a real portal server, SQLite and
PostgreSQL: a supervisor enters and imports outages (a bad file writes nothing), the board lists
them by unit to those whose units they cover (not to Suzhou), restores one and cancels one (the
caller of its area hears of it at intake until then); an agent confirms a
suggested link and closes its open member with the master; and one look at the board in Chromium."""

import pendulum
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from models.outages.outage import Outage
from models.tickets.links import TicketLink
from models.tickets.ticket import Ticket
from tasks.core.db import session_scope
from tests.portal import csrf_of, login, portal_centre, post_form
from tests.test_portal_browser import chromium, log_in  # noqa: F401 - the browser fixture

ZONE = "Asia/Shanghai"
HEADER = "停电编号,停电类型,停电区域,停电线路,停电开始时间,预计恢复时间,停电原因,状态\n"


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    return portal_centre(db_url, tmp_path, monkeypatch)


def local(moment) -> str:
    return moment.in_timezone(ZONE).format("YYYY-MM-DD HH:mm")


def upload(client, text: str):
    token = csrf_of(client.get("/outages").text)
    return client.post("/outages/import", data={"csrf": token},
                       files={"file": ("plan.csv", text.encode("utf-8"), "text/csv")})


def outage_count(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(Outage))


def board_rows(client, unit: str) -> list[tuple[str, str]]:
    page = client.get("/outages").text
    if f'id="unit-{unit}"' not in page:
        return []
    section = page.split(f'id="unit-{unit}"')[1].split("</section>")[0]
    return [(chunk.split('"')[0], chunk.split('class="status">')[1].split("<")[0])
            for chunk in section.split('data-number="')[1:]]


def test_the_board_enters_imports_lists_by_unit_and_restores(portal, centre):
    now = pendulum.now("UTC")
    soon, later = now.add(days=2), now.subtract(hours=1)
    supervisor = login(portal, "S0001")
    entered = post_form(supervisor, "/outages", {
        "number": "TD-P1", "kind": "planned", "units": "320102", "lines": "10kV 玄武线",
        "start": soon.in_timezone(ZONE).format("YYYY-MM-DDTHH:mm"),
        "restore": soon.add(hours=6).in_timezone(ZONE).format("YYYY-MM-DDTHH:mm"),
        "reason": "线路改造"}, page="/outages")
    assert entered.status_code == 303
    bad = upload(supervisor, HEADER + f"TD-B1,计划停电,320102,,{local(soon)},{local(soon)},检修,\n")
    assert bad.status_code == 303
    assert "第2行：预计恢复时间应晚于停电开始时间" in supervisor.get("/outages").text
    assert outage_count(centre) == 1
    good = upload(supervisor, HEADER + f"TD-I1,临时检修,3201,,{local(later)},"
                                       f"{local(later.add(hours=3))},变压器抢修,\n")
    assert good.status_code == 303
    assert "已导入1行：新增1，更新0，未变0。" in supervisor.get("/outages").text
    assert outage_count(centre) == 2
    assert board_rows(supervisor, "320102") == [("TD-P1", "计划")]
    assert board_rows(supervisor, "3201") == [("TD-I1", "进行中")]
    agent = login(portal, "S0100")
    assert board_rows(agent, "3201") == [("TD-I1", "进行中")]
    assert post_form(agent, "/outages/TD-I1/restore", {}, page="/outages").status_code == 403
    suzhou = login(portal, "SZ-A")
    assert 'id="no-outages"' in suzhou.get("/outages").text
    assert post_form(supervisor, "/outages/TD-I1/restore", {}, page="/outages").status_code == 303
    assert board_rows(supervisor, "3201") == []
    # a caller of 320102 hears of the planned outage still to come at intake
    ahead = agent.get("/intake?phone=19900000001").text.split('id="outages-ahead"')[1]
    assert (f"计划停电 TD-P1 · {local(soon)}至{local(soon.add(hours=6))} · 原因：线路改造 · "
            "线路：10kV 玄武线") in ahead.split("</ul>")[0]
    assert post_form(agent, "/outages/TD-P1/cancel", {}, page="/outages").status_code == 403
    assert post_form(supervisor, "/outages/TD-P1/cancel", {}, page="/outages").status_code == 303
    assert "停电TD-P1已取消，已收到停电通知的客户将收到取消短信。" in supervisor.get("/outages").text
    assert board_rows(supervisor, "320102") == []
    ahead = agent.get("/intake?phone=19900000001").text.split('id="outages-ahead"')[1]
    assert ahead.split("</ul>")[0].split(">", 1)[1].strip() == "<li>无</li>"


def test_an_agent_confirms_a_suggested_link_on_the_ticket_page(portal, centre):
    agent = login(portal, "S0100")
    numbers = []
    for phone in ("13812340001", "13812340002"):
        html = agent.get("/intake").text
        response = agent.post("/intake", data={
            "csrf": csrf_of(html), "form": html.split('name="form" value="')[1].split('"')[0],
            "type": "complaint", "urgency": "normal", "phone": phone, "name": "张三",
            "address": "南京市玄武区中山路1号", "region": "320102",
            "content": "营业厅工作人员态度恶劣，拒绝办理业务"})
        numbers.append(response.headers["location"].rsplit("/", 1)[1])
    first, second = numbers
    page = agent.get(f"/tickets/{second}").text
    assert f'data-number="{first}"' in page.split('id="suggested-links"')[1]
    confirmed = post_form(agent, f"/tickets/{second}/links",
                          {"master": first, "kind": "duplicate"}, page=f"/tickets/{second}")
    assert confirmed.status_code == 303
    page = agent.get(f"/tickets/{second}").text
    assert f"主单：<a href=\"/tickets/{first}\">{first}</a>" in page
    again = post_form(agent, f"/tickets/{first}/links", {"master": second, "kind": "duplicate"},
                      page=f"/tickets/{first}")
    assert again.status_code == 303
    assert "未关联：主单本身是其他工单的从单，关联只允许一层。" in agent.get(f"/tickets/{first}").text
    with session_scope(centre) as session:
        ours = select(Ticket.id).where(Ticket.number.in_(numbers))
        assert session.scalar(select(func.count()).select_from(TicketLink).where(
            TicketLink.master_id.in_(ours) | TicketLink.member_id.in_(ours))) == 1
    assert 'id="close-members"' in agent.get(f"/tickets/{first}").text  # 一并办结从单
    closed = post_form(agent, f"/tickets/{first}/close-members", {}, page=f"/tickets/{first}")
    assert closed.status_code == 303
    page = agent.get(f"/tickets/{first}").text
    assert f"已一并办结从单：{second}。" in page and 'id="close-members"' not in page
    with session_scope(centre) as session:
        assert session.scalar(select(Ticket.status).where(Ticket.number == second)) == "closed"


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)  # HTTP covers both
def test_the_board_in_chromium(portal, centre, chromium):  # noqa: F811
    now = pendulum.now("UTC")
    supervisor = login(portal, "S0001")
    upload(supervisor, HEADER + f"TD-C1,计划停电,320102,10kV 玄武线,{local(now.add(days=1))},"
                                f"{local(now.add(days=1, hours=4))},线路改造,\n")
    page = chromium.new_page()
    log_in(page, portal, "S0100")
    page.click("header a[href='/outages']")
    row = page.locator("#unit-320102 tr[data-number='TD-C1']")
    expect(row.locator(".status")).to_have_text("计划")
    expect(row).to_contain_text("线路改造")
    expect(page.locator("#enter-outage")).to_have_count(0)  # an agent reads, does not enter
