"""现场监控 in Chromium: the board changes as the centre does, pushed by server-sent events,
without the page reloading; the dashboard draws its chart from the portal's own Chart.js."""

import re

import pendulum
import pytest
from playwright.sync_api import expect, sync_playwright

from models.core.enums import AreaKind, TicketType
from models.org.organisation import Region
from models.tickets.ticket import Ticket, TicketClock
from models.workforce.tables import IndicatorReading
from tasks.core.db import session_scope
from tasks.org.passwords import hash_password
from tests.portal import PASSWORD, portal_app, serve
from tests.statistics_centre import build
from tests.test_portal_browser import CHROMIUM, log_in


@pytest.fixture
def board_url(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDLINE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GRIDLINE_PORTAL__WALLBOARD_SECONDS", "0.3")
    with session_scope(db_url) as session:
        build(session, hash_password(PASSWORD))
    with serve(portal_app()) as base_url:
        yield base_url


def test_the_wallboard_follows_the_centre_without_reload(board_url, db_url):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**CHROMIUM)
        page = browser.new_page()
        log_in(page, board_url, "P-ADM")
        page.goto(f"{board_url}/wallboard")
        total = page.locator("#overdue-total-value")
        before = int(total.text_content())
        # The centre's own clock, redrawn by each event; no group has figures yet, and says so.
        at = page.locator("#board-at")
        expect(at).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"))
        expect(at).not_to_have_text(at.text_content())
        expect(page.locator("#groups tbody")).to_have_text("暂无实时数据")
        page.evaluate("window.notReloaded = true")
        now = pendulum.now("UTC")
        with session_scope(db_url) as session:
            county = session.query(Region).filter_by(code="320501").one()
            ticket = Ticket(number="LATE1", type=TicketType.consultation, content="超期",
                            caller_name="李四", caller_phone="13800000001", address="",
                            region=county, area_kind=AreaKind.urban, rule_version="test",
                            received_at=now.subtract(days=3))
            ticket.clocks.append(TicketClock(clock="reply", label="答复客户", warn_minutes=60,
                                             due_at=now.subtract(hours=1)))
            session.add(ticket)
            session.add(IndicatorReading(group="居民", indicator="queue_length", value=35,
                                         at=now.subtract(seconds=5)))
        expect(total).to_have_text(str(before + 1))
        expect(page.locator("#units tr", has_text="苏州市").locator("td").nth(1)).to_have_text("1")
        expect(page.locator("#groups td.level2")).to_have_text("35")
        # 居民's answer rate is not known: a "—" in no colour, not a green one.
        expect(page.locator("#groups tr", has_text="居民").locator("td").nth(2)).to_have_text("—")
        expect(page.locator("#groups td[class]", has_text="—")).to_have_count(0)
        assert page.evaluate("window.notReloaded") is True
        browser.close()


def test_the_dashboard_draws_its_charts(board_url):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**CHROMIUM)
        page = browser.new_page()
        failed = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        log_in(page, board_url, "P-ADM")
        page.goto(f"{board_url}/dashboard?start=2025-09-30&end=2025-09-30")
        drawn = page.evaluate("() => Chart.getChart('chart').data.datasets[0].data")
        assert (drawn, failed) == ([4, 1], [])
        page.goto(f"{board_url}/dashboard?start=2025-09-29&end=2025-10-01")  # and its trend
        line = page.evaluate("() => [Chart.getChart('trend').config.type,"
                             " Chart.getChart('trend').data.datasets[0].data]")
        assert (line, failed) == (["line", [1, 5, 0]], [])
        browser.close()
