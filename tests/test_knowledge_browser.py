"""The knowledge editor and search in Chromium: a department's script refused beside the field,
saved, submitted and approved by its head; an agent finds it by a word inside a phrase, sees it
for the caller at intake, and on the consultation step "使用此口径" fills the reply's field."""

from datetime import timedelta

import pendulum
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from models.tickets.ticket import Step
from tasks.core.db import session_scope
from tests.portal import now_utc, open_step, portal_app, seed_centre, serve
from tests.test_knowledge_portal import _wuxi_customer
from tests.test_portal_browser import chromium, log_in  # noqa: F401 - the fixture


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)  # the HTTP test covers both
def test_editor_search_and_use_in_chromium(db_url, chromium, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("GRIDLINE_VAR_DIR", str(tmp_path / "var"))
    seed_centre(db_url, now_utc())
    today = pendulum.now("Asia/Shanghai").date().isoformat()
    with serve(portal_app()) as base_url:
        editor = chromium.new_context().new_page()
        log_in(editor, base_url, "D3202-marketing-1")
        editor.click("text=知识库")
        editor.click("text=新建")
        editor.select_option("#ticket_type", "consultation")
        editor.fill("#regions", "3202")
        editor.fill("#body", "您好，居民客户可通过网上国网App、微信公众号或营业厅缴纳电费。")
        editor.fill("#valid_from", today)
        editor.click("#editor button[type=submit]")
        expect(editor.locator("#error-title")).to_have_text("标题必填")
        expect(editor.locator("#regions")).to_have_value("3202")
        editor.fill("#title", "电费缴纳渠道")
        editor.click("#editor button[type=submit]")
        expect(editor.locator("#state")).to_have_text("草稿")
        editor.click("#actions button[value=submit]")
        expect(editor.locator("#state")).to_have_text("审核中")
        page_url = editor.url

        head = chromium.new_context().new_page()
        log_in(head, base_url, "D3202-marketing-H")
        head.goto(page_url)
        head.click("#actions button[value=approve]")
        expect(head.locator("#state")).to_have_text("生效中")

        agent = chromium.new_context().new_page()
        log_in(agent, base_url, "S0100")
        agent.goto(f"{base_url}/knowledge")
        agent.fill("#q", "缴纳电费")
        agent.click("#knowledge-search button")
        expect(agent.locator("#articles tbody tr")).to_have_count(1)
        expect(agent.locator("#articles tbody tr .state")).to_have_text("生效中")

        phone, name, address, region = _wuxi_customer(db_url)
        agent.goto(f"{base_url}/intake?phone={phone}")
        expect(agent.locator("#scripts li")).to_have_count(1)
        expect(agent.locator("#scripts li a")).to_have_text("电费缴纳渠道")
        reference = agent.locator("#scripts li").get_attribute("data-ref")
        agent.select_option("#type", "consultation")
        agent.fill("#content", "电费在哪里交？")
        agent.click("#create button[type=submit]")
        expect(agent.locator("h1")).to_contain_text("咨询查询")
        number = agent.url.rsplit("/", 1)[1]
        step_id = open_step(db_url, number, "D32-CC", due_in=timedelta(hours=4), now=now_utc(),
                            step_key="answer")
        agent.goto(f"{base_url}/steps/{step_id}")
        agent.click(f".use-script[data-ref='{reference}']")
        expect(agent.locator("[name=script_used]")).to_have_value(reference)
        agent.select_option("[name=result]", "已答复")
        agent.fill("[name=reply_text]", "可通过网上国网App缴纳电费")
        agent.click("form[action^='/steps/'] button[type=submit]")
        expect(agent).to_have_url(f"{base_url}/inbox")
    with session_scope(db_url) as session:
        assert session.scalar(select(Step.form_data).where(Step.id == step_id))["script_used"] == (
            reference)
