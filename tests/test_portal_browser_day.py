"""The day's work in Chromium at a desktop and a phone width: an agent takes a recognised caller's
call; the reviewer reads the department's reply, the re-dispatcher the reason of the return (and
picks the receiving department from a list), a department handling a ticket again the
review's opinion; a supervisor chases and reassigns from 督办 and the new holder finds the step;
a ticket search and its Excel hold the same rows. No page scrolls sideways at 390 px."""

from datetime import timedelta

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from models.core.enums import StepStatus
from models.messaging.outbox import OutboxMessage
from models.org.customer import Customer
from models.org.organisation import Region, Staff
from models.tickets.ticket import Step
from tasks.core.db import session_scope
from tests.portal import PASSWORD, now_utc, portal_centre, serve
from tests.portal_day import DEPARTMENT, OPINION, REFUSAL, REPLY, complaint_at, fixed_clock_app
from tests.test_portal_browser import chromium  # noqa: F401 (the fixture)

# SQLite only: the HTTP tests (tests/test_portal_supervision.py) cover both databases.
pytestmark = pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
NOW = now_utc()
WIDTHS = {"desktop": 1280, "phone": 390}
NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    return portal_centre(db_url, tmp_path, monkeypatch)


@pytest.fixture
def base_url(centre):
    with serve(fixed_clock_app(NOW)) as url:
        yield url


@pytest.fixture(params=list(WIDTHS))
def open_page(request, chromium, base_url, tmp_path):  # noqa: F811 (the fixture)
    """A signed-in page at the width, for each person; each page checked for sideways scroll."""
    width = WIDTHS[request.param]
    pages = []

    def signed_in(code: str):
        context = chromium.new_context(viewport={"width": width, "height": 900},
                                       accept_downloads=True)
        page = context.new_page()
        page.goto(f"{base_url}/login")
        page.fill("#code", code)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("header .who")).to_be_visible()
        pages.append(page)
        return page

    signed_in.base_url, signed_in.width, signed_in.name = base_url, width, request.param
    signed_in.tmp_path = tmp_path
    yield signed_in
    for page in pages:
        page.context.close()


def fits(page, name: str) -> None:
    """The user-visible property: nothing to scroll sideways to; a screenshot for the record."""
    page.screenshot(path=name, full_page=True)
    assert page.evaluate(NO_SIDEWAYS_SCROLL), (
        page.url, page.evaluate("document.scrollingElement.scrollWidth"))


def test_each_step_shows_what_the_steps_before_said(open_page, centre):
    base = open_page.base_url
    shot = open_page.tmp_path / open_page.name
    review, review_step = complaint_at(centre, "review", NOW, region="320213")
    redispatch, redispatch_step = complaint_at(centre, "redispatch", NOW, region="320281")
    again, again_step = complaint_at(centre, "handle_again", NOW, region="320282")
    sent, sent_step = complaint_at(centre, "redispatched", NOW, region="320213")

    reviewer = open_page("S0100")
    reviewer.goto(f"{base}/inbox")
    fits(reviewer, f"{shot}-inbox.png")
    reviewer.click(f"tr[data-number='{review}'] a[href='/steps/{review_step}']")
    expect(reviewer.locator("h1")).to_have_text("中心审核")
    previous = reviewer.locator("#history li.previous")
    expect(previous).to_contain_text("责任部门处理")
    expect(previous).to_contain_text("已处理")
    expect(previous).to_contain_text(REPLY)
    expect(reviewer.locator("#clocks tr[data-clock='test_reply']")).to_contain_text("剩余 3小时")
    fits(reviewer, f"{shot}-review.png")

    reviewer.goto(f"{base}/inbox")
    reviewer.click(f"tr[data-number='{redispatch}'] a[href='/steps/{redispatch_step}']")
    expect(reviewer.locator("h1")).to_have_text("中心转派")
    expect(reviewer.locator("#again")).to_have_text(f"责任部门处理退单，原因：{REFUSAL}")
    fits(reviewer, f"{shot}-redispatch.png")
    # The receiving department is chosen by name, from the departments of the ticket's unit chain.
    options = reviewer.locator("#f-department option").all_inner_texts()
    assert "无锡市供电公司营销部" in options and not any("南京" in o for o in options), options
    reviewer.select_option("#f-department", label="无锡市供电公司营销部")
    reviewer.click("text=提交")
    expect(reviewer.locator(".flash")).to_contain_text("已提交")
    with session_scope(centre) as session:
        done = session.get(Step, redispatch_step)
        assert (done.status, done.form_data["department"]) == (StepStatus.done, DEPARTMENT)

    department = open_page(f"{DEPARTMENT}-1")
    row = department.locator(f"tr[data-number='{again}']")
    expect(row).to_contain_text("第2次")
    row.locator(f"a[href='/steps/{again_step}']").click()
    expect(department.locator("#again")).to_have_text(
        f"第2次处理：上次被退回（中心审核：退回），原因：{OPINION}")
    expect(department.locator("#history li")).to_have_count(3)
    fits(department, f"{shot}-again.png")
    department.goto(f"{base}/steps/{sent_step}")  # sent here by the centre: no code, a name
    expect(department.locator("#again")).to_have_text("第2次处理：经中心转派转至本部门，说明：按职责转派")
    expect(department.locator("#history li.previous")).to_contain_text("无锡市供电公司营销部")

    reviewer.goto(f"{base}/tickets/{again}")
    expect(reviewer.locator("#steps tr[data-step='handle']").nth(1)).to_contain_text("第 2 次")
    fits(reviewer, f"{shot}-ticket.png")


def test_an_agent_takes_a_call_from_a_recognised_caller(open_page, centre):
    with session_scope(centre) as session:
        customer = session.scalars(select(Customer).where(
            Customer.region.has(Region.parent.has(code="3202"))).order_by(Customer.id)).first()
        phone, name = customer.phone, customer.name
    agent = open_page("S0100")
    agent.click("header >> text=受理来电")
    agent.fill("#lookup-phone", phone)
    agent.click("text=查询客户")
    expect(agent.locator("#name")).to_have_value(name)
    expect(agent.locator("#customer")).to_contain_text("已识别客户")
    fits(agent, str(open_page.tmp_path / f"{open_page.name}-intake.png"))
    agent.select_option("#type", "consultation")
    agent.fill("#content", "咨询峰谷电价的执行时段")
    agent.click("text=创建工单")
    expect(agent.locator("h1")).to_contain_text("咨询")
    expect(agent.locator("#timeline")).to_contain_text(f"来电人{name}")
    fits(agent, str(open_page.tmp_path / f"{open_page.name}-new-ticket.png"))


def test_a_supervisor_chases_and_reassigns_from_supervision(open_page, centre):
    base = open_page.base_url
    shot = open_page.tmp_path / open_page.name
    late, _ = complaint_at(centre, "handle", NOW, due_in=-timedelta(hours=2))
    moved, moved_step = complaint_at(centre, "handle", NOW, region="320281",
                                     due_in=timedelta(minutes=30))
    with session_scope(centre) as session:
        head = session.scalar(select(Staff).where(Staff.code == f"{DEPARTMENT}-H"))
        receiver = session.scalar(select(Staff).where(Staff.code == "D320281-marketing-1"))
        head_name, head_phone, receiver_name = head.name, head.phone, receiver.name

    supervisor = open_page("S0001")
    supervisor.click("header >> text=督办")
    row = supervisor.locator(f"#at-risk tr[data-number='{late}']")
    expect(row.locator(".responsible")).to_have_text(f"{head_name}（无锡市供电公司营销部）")
    fits(supervisor, f"{shot}-supervise.png")
    row.locator("input[name=note]").fill("客户已三次来电")
    row.locator("text=催办").click()
    expect(supervisor.locator(".flash")).to_contain_text(f"已催办工单 {late}：短信已排队发给{head_name}")
    with session_scope(centre) as session:
        sms = session.scalars(select(OutboxMessage).where(OutboxMessage.template == "chase")).all()
        assert [(m.recipient, "客户已三次来电" in m.body_text) for m in sms] == [(head_phone, True)]

    supervisor.select_option("#risk-filters select[name=stage]", "about_to_expire")
    supervisor.click("#risk-filters >> text=筛选")
    expect(supervisor.locator("#at-risk tbody tr")).to_have_count(1)
    supervisor.locator(f"#at-risk tr[data-number='{moved}'] >> text=转派").click()
    expect(supervisor.locator("h1")).to_have_text("转派：责任部门处理")
    supervisor.select_option("#f-staff", label=f"{receiver_name}（江阴市供电服务中心 · 部门处理人）")
    supervisor.fill("#f-reason", "属地在江阴")
    fits(supervisor, f"{shot}-reassign.png")
    supervisor.click("text=确认转派")
    expect(supervisor.locator(".flash")).to_have_text(
        f"工单 {moved} 的环节已转派给江阴市供电服务中心（{receiver_name}）。")
    expect(supervisor.locator("#risk-filters select[name=stage]")).to_have_value("about_to_expire")

    holder = open_page("D320281-marketing-1")
    row = holder.locator(f"tr[data-number='{moved}']")
    expect(row).to_contain_text(f"指派：{receiver_name}")
    expect(row.locator(f"a[href='/steps/{moved_step}']")).to_be_visible()
    holder.goto(f"{base}/tickets/{moved}")
    expect(holder.locator("#timeline")).to_contain_text("原因：属地在江阴")
    fits(holder, f"{shot}-holder-ticket.png")


def test_a_ticket_search_and_its_excel_hold_the_same_rows(open_page, centre):
    complaint_at(centre, "handle", NOW, due_in=-timedelta(hours=1))
    agent = open_page("S0100")
    agent.click("header >> text=工单查询")
    agent.select_option("#search select[name=unit]", label="无锡市")
    agent.click("#search button[type=submit]")
    found = int(agent.locator("#found").inner_text())
    assert found >= 1
    fits(agent, str(open_page.tmp_path / f"{open_page.name}-search.png"))
    rows = agent.locator("#results tbody tr")
    screen = [[cell.inner_text().strip() for cell in rows.nth(i).locator("td").all()]
              for i in range(rows.count())]
    assert len(screen) == min(found, 25)
    with agent.expect_download() as download:
        agent.click("#export")
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as handle:
        sheet = load_workbook(handle).active
    excel = [[str(v) if v is not None else "" for v in row]
             for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert excel[:len(screen)] == screen and len(excel) == found
    agent.check("#search input[name=overdue]")
    agent.click("#search button[type=submit]")
    expect(agent.locator("#results tbody tr")).to_have_count(1)
    expect(agent.locator("#results tbody tr td").last).to_have_text("已超期 1小时")
