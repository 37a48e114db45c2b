"""The portal in a real browser (Debian's Chromium driven by Playwright): an agent takes a call and
creates a complaint; the department's handler finds it, fills its form with one mistake, corrects
it and submits; the step leaves the inbox and a second submit is refused politely."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from models.customer import Customer
from models.enums import StepStatus
from models.org import Region
from models.ticket import Step, Ticket
from tasks.db import session_scope
from tests.portal import PASSWORD, now_utc, open_step, portal_app, seed_centre, serve

CHROMIUM = dict(executable_path="/usr/bin/chromium", headless=True, args=[
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"])


@pytest.fixture
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**CHROMIUM)
        yield browser
        browser.close()


def log_in(page, base_url: str, code: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#code", code)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("header .who")).to_contain_text("（")


def test_agent_takes_a_call_and_the_department_completes_its_step(db_url, tmp_path, monkeypatch,
                                                                   chromium):
    monkeypatch.setenv("GRIDLINE_VAR_DIR", str(tmp_path / "var"))
    seed_centre(db_url, now_utc())
    with session_scope(db_url) as session:
        customer = session.scalars(select(Customer).order_by(Customer.id).where(
            Customer.region.has(Region.parent.has(code="3202")))).first()  # a Wuxi customer
        phone, name = customer.phone, customer.name
    with serve(portal_app()) as base_url:
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
