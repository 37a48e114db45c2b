"""Cases on the lifecycle engine, on a real Prefect server with the in-process worker: a case
page walked to its end (a `not_by` refusal on the way), a resume from the Prefect UI, a lapse
window completed once across a 调休 weekend, a dead case run restarted by the reconciler, and the
report submission's 上报 → 退回 → 上报 → 审核通过 on the engine."""

import time
from contextlib import contextmanager
from datetime import date, timedelta
from uuid import UUID

import pendulum
import pytest
from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.states import Cancelled
from sqlalchemy import delete, select

from flows.approvals import act_on_report
from flows.cases import complete_case_step, lapse_case_steps, start_case
from flows.reconcile import reconcile_lifecycles
from models.cases.case import Case
from models.core.errors import InputError
from models.org.organisation import Region, Staff
from models.statistics.approval import Action, ApprovalStatus, Submission
from models.tickets.calendar import CalendarOverride
from tasks.cases.pages import cases_folder
from tasks.core.db import session_scope
from tasks.statistics import approval
from tests.lifecycle_harness import live_centre, run_state, running_centre, two_lapse_audits_at_once

WALK = """\
subject: report_submission
title: 测试流程
steps:
  - {key: inspect, kind: handoff, title: 初查, to: marketing, form: report_resubmit}
  - key: review
    kind: review
    title: 复核
    to: marketing
    form: report_review
    not_by: inspect
    lapse: {working_days: 1, outcome: 审核通过}
    when: {审核通过: close, 退回: fix}
  - {key: fix, kind: handoff, title: 整改, assignee: opener, form: report_resubmit, next: review}
  - {key: close, kind: close, title: 办结}
"""


@pytest.fixture(scope="module")
def centre(postgres_server, tmp_path_factory):
    yield from running_centre(postgres_server, tmp_path_factory)


@pytest.fixture
def live(centre):
    with live_centre(centre):
        yield centre


@contextmanager
def walk_page(live):
    """The report_submission page replaced by the test walk (cases started meanwhile keep it)."""
    page = cases_folder() / "report_submission.yaml"
    shipped = page.read_text(encoding="utf-8")
    page.write_text(WALK, encoding="utf-8")
    try:
        yield
    finally:
        page.write_text(shipped, encoding="utf-8")


def staff_id(code: str) -> int:
    with session_scope() as session:
        return session.scalar(select(Staff.id).where(Staff.code == code))


def open_walk(opener: str) -> str:
    with session_scope() as session:
        region = session.scalar(select(Region.id).where(Region.code == "320102"))
        return start_case(session, "report_submission", 0, region, "测试流程",
                          opened_by=session.get(Staff, staff_id(opener))).number


def case_of(number: str) -> dict:
    with session_scope() as session:
        case = session.scalar(select(Case).where(Case.number == number))
        return {"status": case.status, "run": case.flow_run_id,
                "steps": [(s.step_key, s.attempt, s.status.value,
                           s.department.code if s.department else None) for s in case.steps],
                "events": [(e.kind, e.actor, e.message) for e in case.events],
                "open": next((s.step_key for s in case.steps if s.status == "open"), None)}


def wait_at(number: str, key: str | None, timeout: float = 90) -> dict:
    """The case once its run waits at step `key` (None: once its run completed)."""
    deadline = time.monotonic() + timeout
    while True:
        # The run's state first: a run seen completed has committed everything it wrote.
        run = case_of(number)["run"]
        state = run_state(run).state if run else None
        seen = case_of(number)
        if key is None and state is not None and state.is_completed():
            return seen
        if key is not None and seen["open"] == key and state is not None and state.is_paused():
            return seen
        assert time.monotonic() < deadline, f"{number} never waited at {key}: {seen}, {state}"
        time.sleep(0.5)


def test_a_case_page_walked_to_its_end_refusing_the_inspector_as_reviewer(live):
    with walk_page(live):
        number = open_walk("D320102-marketing-1")
    assert number.startswith("SP") and number.endswith("0001")
    wait_at(number, "inspect")
    complete_case_step(number, "inspect", {"note": "已初查"}, staff_id("D320102-marketing-1"))
    wait_at(number, "review")
    with pytest.raises(InputError) as refused:
        complete_case_step(number, "review", {"result": "审核通过"}, staff_id("D320102-marketing-1"))
    assert refused.value.zh.endswith("已办理本流程的前一环节，不能再办理此环节，请由他人办理")
    assert case_of(number)["open"] == "review"
    complete_case_step(number, "review", {"result": "退回", "reason": "材料不全"},
                       staff_id("D320102-marketing-2"))
    at_fix = wait_at(number, "fix")
    with session_scope() as session:
        fix = session.scalar(select(Case).where(Case.number == number)).steps[-1]
        assert fix.assignee.code == "D320102-marketing-1"
    complete_case_step(number, "fix", {"note": "已补齐"}, staff_id("D320102-marketing-1"))
    wait_at(number, "review")
    complete_case_step(number, "review", {"result": "审核通过"}, staff_id("D320102-marketing-H"))
    done = wait_at(number, None)
    assert done["status"] == "closed", f"{done['steps']} {[e[0] for e in done['events']]}"
    assert [s[:3] for s in done["steps"]] == [
        ("inspect", 1, "done"), ("review", 1, "done"), ("fix", 1, "done"), ("review", 2, "done"),
        ("close", 1, "done")]
    assert {s[3] for s in at_fix["steps"]} == {"D320102-marketing"}
    assert [e[0] for e in done["events"]] == [
        "case_opened", "step_opened", "step_done", "step_opened", "step_done", "step_opened",
        "step_done", "step_opened", "step_done", "close"]
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(done["run"]))
        artifact = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=[f"case-{number.lower()}"])))
    assert {"case:report_submission", "region:320102", "department:D320102-marketing"} \
        <= set(run.tags)
    latest = max(artifact, key=lambda a: a.created).data  # one version per wait and the close
    assert "| 复核 | 2 |" in latest and "· closed" in latest


def test_a_case_step_resumed_from_the_prefect_ui(live):
    with walk_page(live):
        number = open_walk("D320102-marketing-1")
    run = wait_at(number, "inspect")["run"]
    with get_client(sync_client=True) as client:
        client.resume_flow_run(UUID(run), run_input={"note": "界面办理"})
    seen = wait_at(number, "review")
    assert ("step_done", "Prefect 界面", "初查：界面办理") in seen["events"]
    assert seen["run"] == run


def test_a_lapse_window_completes_the_step_once_across_a_tiaoxiu_weekend(live):
    today = pendulum.now("Asia/Shanghai").date()
    days = {today: True, today + timedelta(days=1): False, today + timedelta(days=2): False,
            today + timedelta(days=3): True}  # 调休: the third day is worked
    with session_scope() as session:
        session.execute(delete(CalendarOverride).where(CalendarOverride.day.in_(days)))
        session.add_all(CalendarOverride(day=d, is_working=w, note="测试调休") for d, w in days.items())
    try:
        with walk_page(live):
            number = open_walk("D320102-marketing-1")
        wait_at(number, "inspect")
        complete_case_step(number, "inspect", {"note": "已初查"}, staff_id("D320102-marketing-1"))
        wait_at(number, "review")
        with session_scope() as session:
            review = session.scalar(select(Case).where(Case.number == number)).steps[-1]
            opened, due = pendulum.instance(review.opened_at), pendulum.instance(review.due_at)
        assert due == opened.add(days=3)  # one working day: the two days off skipped
        mine = f"{number} review"  # other tests' cases wait too, with windows of their own
        assert mine not in lapse_case_steps(now=due.subtract(seconds=1))
        results = two_lapse_audits_at_once(live.prefect.api_url, due)
        assert sorted(([x for x in r if x == mine] for r in results), key=len) == [[], [mine]]
        done = wait_at(number, None)
        assert [e for e in done["events"] if e[0] == "step_done"][-1] == (
            "step_done", "系统", "复核：审核通过，逾期未办理，系统按期办结")
        assert done["status"] == "closed", done
    finally:
        with session_scope() as session:
            session.execute(delete(CalendarOverride).where(CalendarOverride.day.in_(days)))


def test_the_reconciler_restarts_a_dead_case_run(live):
    with walk_page(live):
        number = open_walk("D320102-marketing-1")
    before = wait_at(number, "inspect")
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(UUID(before["run"]), Cancelled(), force=True)
    assert reconcile_lifecycles() == [number]
    after = wait_at(number, "inspect")
    assert after["run"] != before["run"] and after["steps"] == before["steps"]
    assert [e[:2] for e in after["events"]] == [e[:2] for e in before["events"]] + [
        ("run_restarted", "系统")]
    assert reconcile_lifecycles() == []
    complete_case_step(number, "inspect", {"note": "已初查"}, staff_id("D320102-marketing-1"))
    wait_at(number, "review")


def test_a_report_submitted_sent_back_submitted_and_approved_on_the_engine(live):
    month, county = date(2026, 11, 1), "320102"
    with session_scope() as session:
        region = session.scalar(select(Region.id).where(Region.code == county))
    unit, city = staff_id("D320102-marketing-H"), staff_id("D3201-marketing-H")
    now = pendulum.now("UTC")
    number = act_on_report(unit, "indicators", month, region, Action.submit, now=now)
    review = wait_at(number, "review")
    assert review["steps"][0][3] == "D3201-marketing"  # the level above reviews
    with pytest.raises(InputError) as refused:
        act_on_report(city, "indicators", month, region, Action.send_back, now=now)
    assert refused.value.zh == "reason：退回时须填写退回原因"  # the form says it first
    assert case_of(number)["open"] == "review"
    act_on_report(city, "indicators", month, region, Action.send_back, now=now,
                  reason="走访户数与台账不符")
    wait_at(number, "resubmit")
    with pytest.raises(InputError) as refused:
        act_on_report(city, "indicators", month, region, Action.approve, now=now)
    assert refused.value.zh == "报表已退回，不能审核"
    assert act_on_report(unit, "indicators", month, region, Action.submit, now=now) == number
    wait_at(number, "review")
    act_on_report(city, "indicators", month, region, Action.approve, now=now)
    done = wait_at(number, None)
    with session_scope() as session:
        row = session.scalar(select(Submission).where(Submission.region_id == region))
        log = [(e.action, e.detail.get("reason")) for e in approval.history(session, row)]
        status = row.status
    assert status == ApprovalStatus.approved and done["status"] == "closed"
    assert log == [("submit", None), ("send_back", "走访户数与台账不符"), ("submit", None),
                   ("approve", None)]
    assert [s[:3] for s in done["steps"]] == [("review", 1, "done"), ("resubmit", 1, "done"),
                                              ("review", 2, "done"), ("close", 1, "done")]
