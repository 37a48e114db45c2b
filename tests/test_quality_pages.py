"""The quality pages over HTTP on a real portal, SQLite and PostgreSQL: an agent sees only their
own results and appeals with the time left; the inspector's review of their own result is refused;
a reviewer amends; a unit's supervisor sees only its agents; the Excel equals the table; an
indicator appeal filed on its page and decided by the department it was routed to."""

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models.cases.case import Case
from models.org.organisation import Staff
from models.quality.lifecycle import ResultStatus
from models.quality.tables import Inspection, Result
from models.tickets.lifecycle import Walk
from models.tickets.ticket import Ticket
from tasks.cases.pages import pin_case
from tasks.cases.store import enter_case_step, find_case_step, get_case
from tasks.core.db import session_scope
from tasks.org.passwords import hash_password
from tasks.quality.case_opening import open_result_case
from tasks.quality.files import plan
from tasks.quality.results import publish_lapsed_result, score_inspection
from tasks.quality.sampling import draw_period
from tasks.tickets.calendar_store import centre_calendar
from tasks.tickets.lifecycle_store import outcome_of
from tests.portal import PASSWORD, login, post_form, serve
from tests.portal_day import fixed_clock_app
from tests.quality_centre import build, local
from tests.test_quality import ALL_MET, _clocks

NOW = local(2026, 9, 30, 10)
EARLY = local(2026, 9, 1, 10)  # its fails' windows lapse on 09-04


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    """August's sample scored: A1's first result failed and open to appeal, the rest published
    (A2's first failed on the veto item and lapsed, its second 80 points)."""
    monkeypatch.setenv("GRIDLINE_VAR_DIR", str(tmp_path / "var"))
    with session_scope(db_url) as session:
        build(session, hash_password(PASSWORD))
        draw_period(session, plan("monthly"), date(2026, 8, 1), now=EARLY, timezone="Asia/Shanghai")
        seen: dict[str, int] = {}
        for inspection in session.scalars(select(Inspection).order_by(Inspection.id)):
            nth = seen[inspection.agent.code] = seen.get(inspection.agent.code, -1) + 1
            special = {("A1", 0): {"accuracy": False}, ("A2", 0): {"no_leak": False},
                       ("A2", 1): {"greeting": False}}.get((inspection.agent.code, nth), {})
            first = (inspection.agent.code, nth) == ("A1", 0)
            result = score_inspection(session, inspection.inspector, inspection,
                                      {**ALL_MET, **special}, "抽检说明", now=NOW if first else EARLY)
            if first:
                open_result_case(session, inspection, by=inspection.inspector, now=NOW)
            elif special.get("no_leak") is False:
                publish_lapsed_result(session, result, now=NOW)
        assert seen == {"A1": 3, "A2": 1, "B1": 1}  # the last index: 4, 2 and 2 sampled
    walk_case()
    return db_url


def walk_case() -> None:
    """Walk A1's case to its open step, as its run would (no Prefect here; the run itself is
    tests/test_quality_cases.py's)."""
    with session_scope() as session:
        case = get_case(session, session.scalar(select(Case.number)))
        walk = Walk(pin_case(session, case))
        while walk.key is not None:
            step, attempt = walk.enter()
            row = find_case_step(session, case, step.key, attempt) or enter_case_step(
                session, case, walk, step, attempt, NOW, centre_calendar(session))
            if row.status == "open":
                return
            walk.leave(step, outcome_of(row), row.form_data or {})


@pytest.fixture
def portal(centre):
    with serve(fixed_clock_app(NOW)) as base_url:
        yield base_url


def _open_fail(url) -> tuple[Result, list[str]]:
    """A1's result open to appeal, and the tickets of all A1's results."""
    with session_scope(url) as session:
        found = session.scalar(select(Result).where(Result.status == ResultStatus.prepublished))
        tickets = session.scalars(select(Ticket.number).join(Inspection, Inspection.ticket_id
                                                             == Ticket.id)
                                  .where(Inspection.agent.has(code="A1"))).all()
        session.expunge(found)
        return found, sorted(tickets)


def _rows(html: str, table: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table}">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [re.findall(r"<td>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_an_agent_sees_only_own_results_appeals_and_the_inspector_may_not_review(portal, centre):
    failed, own_tickets = _open_fail(centre)
    agent = login(portal, "A1")
    mine = _rows(agent.get("/quality/mine").text, "results")
    assert (sorted(row[0] for row in mine), len(own_tickets)) == (own_tickets, 4)
    page = agent.get(f"/quality/result/{failed.id}").text
    assert '申诉期至 2026-10-10 10:00，<span id="time-left">剩余 10天</span>' in page
    with session_scope(centre) as session:
        others = session.scalar(select(Result.id).join(Result.inspection)
                                .where(Inspection.agent.has(code="B1")).limit(1))
    assert agent.get(f"/quality/result/{others}").status_code == 404
    assert login(portal, "A2").get(f"/quality/result/{failed.id}").status_code == 404
    appealed = post_form(agent, f"/quality/result/{failed.id}/appeal",
                         {"reason": "地址为客户口述"}, page=f"/quality/result/{failed.id}")
    assert appealed.status_code == 303
    assert "申诉成功：申诉中。" in agent.get(f"/quality/result/{failed.id}").text
    walk_case()  # the run moves on to the review
    inspector_code = "Q1" if failed.scored_by_id == _staff_id(centre, "Q1") else "Q2"
    inspector = login(portal, inspector_code)
    assert "没有待复核的申诉" in inspector.get("/quality/reviews").text
    post_form(inspector, f"/quality/result/{failed.id}/review",
              {"action": "uphold", "note": "维持"}, page=f"/quality/result/{failed.id}")
    assert "未能维持原判：复核人不能是原质检员。" in inspector.get("/quality/reviews").text
    reviewer = login(portal, "Q2" if inspector_code == "Q1" else "Q1")
    assert [row[0] for row in _rows(reviewer.get("/quality/reviews").text, "reviews")] == [
        _number(centre, failed)]
    amended = post_form(reviewer, f"/quality/result/{failed.id}/review",
                        {"action": "amend", "note": "录音核实无误",
                         **{f"item_{key}": "yes" for key in ALL_MET}},
                        page=f"/quality/result/{failed.id}")
    new_page = reviewer.get(amended.headers["location"]).text
    assert "改判成功：已公布。" in new_page and "（第2版）" in new_page
    old_page = agent.get(f"/quality/result/{failed.id}").text
    assert "<strong>已改判</strong>" in old_page and "得分 70.0" in old_page


def _number(url, result: Result) -> str:
    with session_scope(url) as session:
        return session.get(Result, result.id).inspection.ticket.number


def _staff_id(url, code: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(Staff.id).where(Staff.code == code))


SUMMARY = {
    "agent": [["李坐席（A2）", "2", "1", "50.0%", "90.0"], ["王坐席（A1）", "3", "3", "100.0%", "100.0"],
              ["赵坐席（B1）", "2", "2", "100.0%", "100.0"]],
    "team": [["南京值班长班组", "5", "4", "80.0%", "96.0"], ["未分班组", "2", "2", "100.0%", "100.0"]],
    "unit": [["南京市", "5", "4", "80.0%", "96.0"], ["苏州市", "2", "2", "100.0%", "100.0"]],
}


@pytest.mark.parametrize("by", ["agent", "team", "unit"])
def test_the_month_by_agent_team_and_unit_and_its_excel(portal, by):
    supervisor = login(portal, "SUP")
    screen = _rows(supervisor.get(f"/quality/results?month=2026-08&by={by}").text, "summary")
    assert screen == SUMMARY[by]
    book = load_workbook(io.BytesIO(supervisor.get(
        f"/quality/results.xlsx?month=2026-08&by={by}").content))
    sheet = [[str(v) for v in row] for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert sheet == screen


def test_a_unit_sees_only_its_own_agents_and_an_agent_no_summary(portal):
    nanjing = login(portal, "NJ-SUP")
    rows = _rows(nanjing.get("/quality/results?month=2026-08&by=agent").text, "summary")
    assert rows == SUMMARY["agent"][:2]
    assert login(portal, "A1").get("/quality/results?month=2026-08").status_code == 403


def _appeal_rows(html: str) -> dict[str, list[str]]:
    body = re.search(r'<table id="appeals">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return {number: re.sub(r"<[^>]+>", "", "|".join(re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)))
            for number, row in re.findall(r'<tr id="appeal-(\d+)">(.*?)</tr>', body, re.S)}


def test_an_indicator_appeal_filed_on_the_page_is_decided_by_its_department(portal, centre):
    with session_scope(centre) as session:
        _clocks(session)
    agent = login(portal, "A1")
    refused = post_form(agent, "/quality/indicator-appeals",
                        {"indicator": "on_time_rate", "month": "2026-08", "tickets": "Q006 Q008",
                         "reason": "客户要求延期"}, page="/quality/indicator-appeals")
    assert refused.status_code == 303
    page = agent.get("/quality/indicator-appeals").text
    assert "未能提交指标申诉：以下工单不在本单位该月的“按时办结率”统计中：Q008。" in page
    post_form(agent, "/quality/indicator-appeals",
              {"indicator": "on_time_rate", "month": "2026-08", "tickets": "Q006\nQ007",
               "reason": "客户要求延期"}, page="/quality/indicator-appeals")
    page = agent.get("/quality/indicator-appeals").text
    [(number, row)] = _appeal_rows(page).items()
    assert f"指标申诉第{number}号已提交：南京坐席班受理。" in page
    assert row == (f"{number}|按时办结率|2026-08|南京市|Q006、Q007|71.4%|—|待处理|南京坐席班|"
                   "2026-10-13 10:00|客户要求延期||")  # the agent has no decide form
    assert "没有指标申诉" in login(portal, "B1").get("/quality/indicator-appeals").text
    head = login(portal, "NJ-SUP")
    assert 'class="decide"' in head.get("/quality/indicator-appeals").text
    post_form(head, f"/quality/indicator-appeals/{number}/decide",
              {"verdict": "upheld", "opinion": "核实客户要求延期"}, page="/quality/indicator-appeals")
    page = head.get("/quality/indicator-appeals").text
    assert f"指标申诉第{number}号：申诉成立，指标值由 71.4% 更正为 100.0%。" in page
    assert _appeal_rows(agent.get("/quality/indicator-appeals").text)[number].split("|")[5:8] == [
        "71.4%", "100.0%", "申诉成立"]
    again = post_form(head, f"/quality/indicator-appeals/{number}/decide",
                      {"verdict": "rejected", "opinion": "再议"}, page="/quality/indicator-appeals")
    assert again.status_code == 303
    assert "未能处理指标申诉：该申诉已处理。" in head.get("/quality/indicator-appeals").text
