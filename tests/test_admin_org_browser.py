"""Going live in a real browser (Debian's Chromium driven by Playwright), SQLite and PostgreSQL:
after `gridline org import`, the admin opens the set-up link texted to them, chooses a password,
logs in, reads the organisation tree of their own city, resets a colleague's password (the old one and the old link
stop working, a new link is texted) and deactivates a colleague, who can no longer log in."""

import re

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from models.messaging.outbox import OutboxMessage
from tasks.core.db import session_scope
from tests.cli import run_cli
from tests.org_files import write_xlsx
from tests.portal import browser, csrf_of, portal_app, serve
from tests.test_portal_browser import CHROMIUM

ADMIN_PASSWORD = "tiger-lily-1987"
AGENT_PASSWORD = "harbour-lights-204"
PUBLIC_URL = "https://portal.example.cn"


@pytest.fixture
def live_centre(db_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRIDLINE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GRIDLINE_PORTAL__BASE_URL", PUBLIC_URL)
    assert run_cli(capsys, "org", "import", str(write_xlsx(tmp_path / "org.xlsx"))).code == 0
    with serve(portal_app()) as base_url:
        yield db_url, base_url


def texted_link(url: str, base_url: str, phone: str) -> str:
    """The newest set-up link sent by SMS to `phone`, on the portal this test serves."""
    with session_scope(url) as session:
        body = session.scalar(select(OutboxMessage.body_text).where(
            OutboxMessage.recipient == phone, OutboxMessage.template == "password_setup")
            .order_by(OutboxMessage.id.desc()))
    path = re.search(rf"{PUBLIC_URL}(/password/setup/[A-Za-z0-9_-]+)", body).group(1)
    return base_url + path


def set_password(link: str, password: str) -> int:
    with httpx.Client(timeout=30) as client:
        page = client.get(link)
        return client.post(link, data={"new": password, "repeat": password,
                                       "csrf": csrf_of(page.text)}).status_code


def login_status(base_url: str, code: str, password: str) -> int:
    client = browser(base_url)
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"code": code, "password": password,
                                       "csrf": token}).status_code


def test_admin_sets_up_reads_the_tree_resets_and_deactivates(live_centre):
    url, base_url = live_centre
    assert set_password(texted_link(url, base_url, "13800000002"), AGENT_PASSWORD) == 303  # N002
    assert login_status(base_url, "N002", AGENT_PASSWORD) == 303
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(**CHROMIUM)
        page = chromium.new_page()
        page.goto(texted_link(url, base_url, "13800000009"))  # N009, the admin
        expect(page.locator("main p").first).to_contain_text("赵管理（工号 N009）")
        page.fill("#f-new", ADMIN_PASSWORD)
        page.fill("#f-repeat", ADMIN_PASSWORD + "x")
        page.click("button:has-text('设置密码')")
        expect(page.locator(".error")).to_have_text("两次输入的新密码不一致")
        page.fill("#f-new", ADMIN_PASSWORD)
        page.fill("#f-repeat", ADMIN_PASSWORD)
        page.click("button:has-text('设置密码')")
        expect(page.locator(".flash")).to_have_text("赵管理，密码已设置，请用工号 N009 登录。")
        page.fill("#code", "N009")
        page.fill("#password", ADMIN_PASSWORD)
        page.click("button:has-text('登录')")
        page.click("header >> text=机构")
        tree = page.locator("ul.tree")
        expect(tree).to_contain_text("南京供电公司")  # the admin's own city, and not Suzhou
        expect(tree).not_to_contain_text("苏州")
        expect(tree.locator("ul.departments li", has_text="玄武抢修班")).to_contain_text("在岗 1 人")

        page.click("header >> text=人员")
        page.fill("#q", "N002")
        page.click("button:has-text('查找')")
        row = page.locator("#staff-N002")
        expect(row).to_contain_text("李坐席")
        old_link = texted_link(url, base_url, "13800000002")
        row.locator("button:has-text('重置密码')").click()
        expect(page.locator(".flash")).to_have_text(
            "李坐席（N002）的密码已重置：原密码失效，设置密码链接已通过短信/邮件发送。")
        assert login_status(base_url, "N002", AGENT_PASSWORD) == 401  # the old password
        new_link = texted_link(url, base_url, "13800000002")
        assert new_link != old_link
        assert httpx.get(old_link).status_code == 410
        assert set_password(new_link, AGENT_PASSWORD) == 303

        page.locator("#staff-N002 button:has-text('停用')").click()
        expect(page.locator(".flash")).to_have_text(
            "李坐席（N002）已停用：不能再登录，所有登录已退出，历史记录保留。")
        expect(page.locator("#staff-N002")).to_contain_text("已停用")
        chromium.close()
    assert login_status(base_url, "N002", AGENT_PASSWORD) == 401  # deactivated
