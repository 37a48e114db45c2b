"""The portal in a real browser (Debian's Chromium driven by Playwright) on a real lifecycle (a
local Prefect server and worker): an agent takes a call and creates a complaint and contacts the
customer; the department's handler finds the step in the inbox, fills its form with one mistake,
corrects it and submits; the ticket's run resumes and the ticket moves on to the centre's review."""

import subprocess
import sys
import time

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from gridline.local_postgres import free_port
from gridline.local_prefect import LocalPrefect
from models.core.enums import StepStatus
from models.org.customer import Customer
from models.org.organisation import Region
from models.tickets.ticket import Step, Ticket
from tasks.core.db import session_scope
from tests.portal import PASSWORD, now_utc, seed_centre

CHROMIUM = dict(executable_path="/usr/bin/chromium", headless=True, args=[
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"])


@pytest.fixture
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture
def centre_on_prefect(db_url, tmp_path):
    """The demo centre, a Prefect server with the complaint lifecycle deployed and a worker, and
    the portal served as `gridline up` serves it: `gridline portal`, two worker processes."""
    seed_centre(db_url, now_utc())
    env = {"GRIDLINE_DATABASE_URL": db_url, "GRIDLINE_VAR_DIR": str(tmp_path / "var")}
    prefect = LocalPrefect(tmp_path / "prefect", free_port(), env=env, log_dir=tmp_path)
    portal = None
    try:
        prefect.start_server()
        prefect.deploy("lifecycle/complaint")
        prefect.start_workers()
        port = free_port()
        portal = subprocess.Popen(
            [sys.executable, "-m", "gridline.cli", "portal", "--log-level", "warning"],
            env=prefect.env | {"GRIDLINE_PORTAL__HOST": "127.0.0.1",
                               "GRIDLINE_PORTAL__PORT": str(port),
                               "GRIDLINE_PORTAL__WORKERS": "2"},
            stdout=open(tmp_path / "portal.log", "wb"), stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(base_url), "the portal to answer")
        yield base_url
    finally:
        if portal is not None:
            portal.terminate()
            portal.wait(10)
        prefect.stop()


def _answers(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/login", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def wait_until(check, what: str, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def open_step_of(url: str, number: str, key: str) -> tuple[int, str] | None:
    """(id, department code) of the ticket's open step `key`, once the lifecycle opened it."""
    with session_scope(url) as session:
        step = session.scalar(select(Step).join(Ticket).where(
            Ticket.number == number, Step.step_key == key, Step.status == StepStatus.open))
        return (step.id, step.department.code) if step else None


def log_in(page, base_url: str, code: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#code", code)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("header .who")).to_be_visible()


def take_step_from_inbox(page, base_url: str, number: str) -> None:
    page.goto(f"{base_url}/inbox")
    page.click(f"tr[data-number='{number}'] a[href^='/steps/']")


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)  # the HTTP tests cover both
def test_agent_takes_a_call_and_the_department_completes_its_step(db_url, centre_on_prefect,
                                                                   chromium):
    base_url = centre_on_prefect
    with session_scope(db_url) as session:
        customer = session.scalars(select(Customer).order_by(Customer.id).where(
            Customer.region.has(Region.parent.has(code="3202")))).first()  # a Wuxi customer
        phone, name = customer.phone, customer.name

    agent = chromium.new_page()
    log_in(agent, base_url, "S0100")
    agent.click("text=受理来电")
    agent.fill("#lookup-phone", phone)
    agent.click("text=查询客户")
    expect(agent.locator("#name")).to_have_value(name)  # the caller need not repeat it
    expect(agent.locator("#customer")).to_contain_text("已识别客户")
    agent.select_option("#type", "complaint")
    agent.fill("#content", "抄表员态度恶劣，要求道歉")
    agent.click("text=创建工单")
    expect(agent.locator("h1")).to_contain_text("投诉")
    expect(agent.locator("#content")).to_have_text("抄表员态度恶劣，要求道歉")
    number = agent.locator("h1").inner_text().split()[1]

    # The lifecycle run asks the centre to contact the customer first.
    wait_until(lambda: open_step_of(db_url, number, "contact"), "the contact step")
    take_step_from_inbox(agent, base_url, number)
    agent.select_option("#f-result", "转责任部门")
    agent.fill("#f-note", "已电话联系客户，客户要求抄表员道歉")
    agent.click("text=提交")
    expect(agent.locator(".flash")).to_contain_text("已提交")

    _, department = wait_until(lambda: open_step_of(db_url, number, "handle"),
                               "the department's step")
    handler = chromium.new_context().new_page()
    log_in(handler, base_url, f"{department}-1")
    expect(handler.locator(f"tr[data-number='{number}']")).to_contain_text("责任部门处理")
    take_step_from_inbox(handler, base_url, number)
    handler.select_option("#f-result", "已处理")
    handler.click("text=提交")  # the reply is missing
    expect(handler.locator("#error-reply_text")).to_contain_text("必填")
    expect(handler.locator("#f-result")).to_have_value("已处理")  # what was chosen stays
    handler.fill("#f-reply_text", "已核实，对抄表员批评教育并向客户致歉")
    handler.click("text=提交")
    expect(handler.locator(".flash")).to_contain_text("已提交")
    expect(handler.locator(f"tr[data-number='{number}']")).to_have_count(0)

    # The run resumed with the reply: the ticket is now with the centre for review.
    wait_until(lambda: open_step_of(db_url, number, "review"), "the centre's review step")
    handler.goto(f"{base_url}/tickets/{number}")
    expect(handler.locator("#steps tr[data-step='handle'] .step-status")).to_have_text("已完成")
    expect(handler.locator("#steps tr[data-step='review'] .step-status")).to_have_text("待处理")


# Draws one character on a canvas in the page's own font and returns the pixels: a font without
# Chinese glyphs draws every character as the same empty box.
GLYPH = """ch => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 64;
  const g = canvas.getContext('2d');
  g.font = '48px ' + getComputedStyle(document.body).fontFamily;
  g.fillText(ch, 4, 52);
  return canvas.toDataURL();
}"""


def test_chinese_text_renders_as_glyphs_not_boxes(db_url, chromium):
    from tests.portal import portal_app, serve

    with serve(portal_app()) as base_url:
        page = chromium.new_page()
        page.goto(f"{base_url}/login")
        expect(page.get_by_role("button")).to_contain_text("登录")
        guo, wang, missing = (page.evaluate(GLYPH, ch) for ch in ("国", "网", "\ue000"))
    assert guo != wang, "Chinese characters render as boxes: install fonts-noto-cjk"
    assert guo != missing
