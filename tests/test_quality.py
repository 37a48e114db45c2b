"""Service quality on SQLite and PostgreSQL: weights and veto items, the stored seed redrawing the
sample, no ticket sampled twice in a plan, the appeal window across National Day 2026 and its 调休
Saturday, a lapsed window published and then never again, the review refused to the inspector, an
amendment as a new version with the old one readable, and indicator appeals routed by the rule
table. The same rules on the lifecycle engine: tests/test_quality_cases.py."""

import shutil
from datetime import date

import pytest
from sqlalchemy import select

from flows.quality import quality_draw
from models.core.errors import InputError
from models.org.organisation import Staff
from models.quality.lifecycle import Action, ResultStatus
from models.quality.scorecard import parse_scorecard, score
from models.quality.tables import Inspection, Result, Sample
from models.tickets.ticket import Ticket
from tasks.core.db import session_scope
from tasks.quality import indicator_appeals
from tasks.quality.files import QUALITY_DIR, plan
from tasks.quality.results import (
    appeal,
    publish_lapsed_result,
    review,
    score_inspection,
    versions,
)
from tasks.quality.sampling import draw_period, redraw, sampled
from tests.cli import run_cli
from tests.quality_centre import SAMPLED, build, local

TZ = "Asia/Shanghai"
CARD = parse_scorecard((QUALITY_DIR / "scorecards" / "service.yaml").read_text("utf-8")).card
ALL_MET = {item.key: True for item in CARD.items}
SCORED_AT = local(2026, 9, 30, 10)  # the eve of National Day 2026 (10-01..07 off, 10-10 on)


def test_weights_give_the_score_and_a_failed_veto_item_fails_the_whole():
    assert score(CARD, ALL_MET) == score(CARD, ALL_MET) and score(CARD, ALL_MET).total == 100.0
    inaccurate = score(CARD, {**ALL_MET, "accuracy": False})
    assert (inaccurate.total, inaccurate.passed, inaccurate.vetoed) == (70.0, False, [])
    greeting = score(CARD, {**ALL_MET, "greeting": False})
    assert (greeting.total, greeting.passed) == (80.0, True)
    leaked = score(CARD, {**ALL_MET, "no_leak": False})
    assert (leaked.total, leaked.passed, leaked.vetoed) == (100.0, False, ["no_leak"])
    with pytest.raises(InputError) as caught:
        score(CARD, {"greeting": True})
    assert caught.value.zh == "请为每一项评分，未评：信息记录准确、工单分类正确、答复解释到位、未泄露客户信息"


def test_a_bad_scorecard_names_its_file_and_line():
    text = ("key: service\ntitle: 评分表\npass_mark: 80\nvalid_from: 2026-01-01\nitems:\n"
            "  - key: greeting\n    title: 服务用语\n    weight: -5\n    criteria: 礼貌\n")
    with pytest.raises(InputError) as caught:
        parse_scorecard(text, "bad.yaml")
    assert (caught.value.field, caught.value.zh) == ("bad.yaml:8: items.0.weight",
                                                     "评分表无效（不能小于 0.0）")


@pytest.fixture
def centre(db_url):
    with session_scope(db_url) as session:
        build(session)
    return db_url


def _staff(session, code: str) -> Staff:
    return session.scalar(select(Staff).where(Staff.code == code))


def _failed(session, now=SCORED_AT) -> Result:
    """August's sample drawn, and its first inspection scored a fail by its inspector."""
    draw_period(session, plan("monthly"), date(2026, 8, 1), now=now, timezone=TZ)
    inspection = session.scalar(select(Inspection).order_by(Inspection.id).limit(1))
    return score_inspection(session, inspection.inspector, inspection,
                            {**ALL_MET, "accuracy": False}, "地址记录错误", now=now)


def test_the_stored_seed_redraws_the_sample_and_no_ticket_is_sampled_twice(centre):
    monthly = plan("monthly")
    with session_scope(centre) as session:
        drawn = draw_period(session, monthly, date(2026, 8, 15), now=SCORED_AT, timezone=TZ)
        assert (drawn.new, drawn.inspections, drawn.sample.period_start) == (
            True, SAMPLED, date(2026, 8, 1))
        dealt = [i.inspector.code for i in session.scalars(
            select(Inspection).order_by(Inspection.id))]
        assert dealt == ["Q1", "Q2"] * (SAMPLED // 2)
        first = sampled(session, drawn.sample)
        assert sorted(redraw(session, monthly, drawn.sample, TZ)) == first
        again = draw_period(session, monthly, date(2026, 8, 2), now=SCORED_AT, timezone=TZ)
        assert (again.new, again.sample.id, sampled(session, again.sample)) == (
            False, drawn.sample.id, first)
        # A sampled ticket reopened and closed again in September is not sampled again.
        ticket = session.get(Ticket, first[0])
        ticket.closed_at = local(2026, 9, 3, 10)
        september = draw_period(session, monthly, date(2026, 9, 1), now=SCORED_AT,
                                timezone=TZ, seed=drawn.sample.seed)
        assert ticket.id not in sampled(session, september.sample)
        assert sampled(session, september.sample) == [
            session.scalar(select(Ticket.id).where(Ticket.number == "Q900"))]


def test_the_appeal_window_runs_over_national_day_to_the_make_up_saturday(centre):
    with session_scope(centre) as session:
        failed = _failed(session)
        assert (failed.status, failed.score, failed.passed) == (ResultStatus.prepublished, 70.0,
                                                                False)
        assert failed.window_ends_at == local(2026, 10, 10, 10)  # 09-30, 10-08, 10-09, 10-10
        other = _staff(session, "A2" if failed.inspection.agent.code != "A2" else "A1")
        with pytest.raises(InputError) as caught:
            appeal(session, other, failed, "不服", now=local(2026, 10, 8, 9))
        assert caught.value.zh == "只有被质检的坐席本人可以申诉"
        with pytest.raises(InputError) as caught:
            publish_lapsed_result(session, failed, now=local(2026, 10, 10, 9, 59))
        assert caught.value.zh == "申诉期未满，不能公布"
        publish_lapsed_result(session, failed, now=local(2026, 10, 10, 10))
        with pytest.raises(InputError) as caught:
            publish_lapsed_result(session, failed, now=local(2026, 10, 10, 10, 15))
        assert caught.value.zh == "结果已公布，不能再修改"
        published = session.get(Result, failed.id)
        assert (published.status, published.published_at, published.score) == (
            ResultStatus.published, local(2026, 10, 10, 10), 70.0)
        with pytest.raises(InputError) as caught:
            appeal(session, published.inspection.agent, published, "晚了", now=local(2026, 10, 12))
        assert caught.value.zh == "结果已公布，不能再修改"
        published.score = 100.0  # not through the use cases: the table itself refuses
        with pytest.raises(InputError) as caught:
            session.flush()
        assert caught.value.zh == "结果已公布，不能再修改"
        session.rollback()


def test_the_inspector_may_not_review_and_an_amendment_is_a_new_version(centre):
    with session_scope(centre) as session:
        failed = _failed(session)
        agent, inspector = failed.inspection.agent, failed.inspection.inspector
        appeal(session, agent, failed, "地址为客户口述，记录无误", now=local(2026, 10, 9, 16))
        with pytest.raises(InputError) as caught:
            review(session, inspector, failed, Action.amend, "同意", now=local(2026, 10, 12),
                   answers=ALL_MET)
        assert caught.value.zh == "复核人不能是原质检员"
        reviewer = _staff(session, "Q2" if inspector.code == "Q1" else "Q1")
        amended = review(session, reviewer, failed, Action.amend, "录音核实，记录无误",
                         now=local(2026, 10, 12, 9), answers=ALL_MET)
        assert (amended.version, amended.replaces_id, amended.status, amended.score,
                amended.passed) == (2, failed.id, ResultStatus.published, 100.0, True)
        old = [(r.version, r.status, r.score, r.answers["accuracy"], r.note)
               for r in versions(session, failed.inspection_id)]
        assert old == [(1, ResultStatus.amended, 70.0, False, "地址记录错误"),
                       (2, ResultStatus.published, 100.0, True, "录音核实，记录无误")]
        with pytest.raises(InputError) as caught:
            review(session, reviewer, failed, Action.uphold, "再看", now=local(2026, 10, 12, 10))
        assert caught.value.zh == "结果已改判，不能再修改"


def test_an_indicator_appeal_goes_to_the_rule_tables_department(centre):
    with session_scope(centre) as session:
        agent, centre_supervisor = _staff(session, "A1"), _staff(session, "SUP")
        filed = indicator_appeals.file_appeal(session, agent, "on_time_rate", date(2026, 8, 1),
                                              "91.0%", "两张工单客户要求延期", now=SCORED_AT)
        assert (filed.department.code, filed.due_at) == ("NJ", local(2026, 10, 13, 10))  # five working days
        with pytest.raises(InputError) as caught:
            indicator_appeals.decide(session, centre_supervisor, filed, True, now=SCORED_AT,
                                     corrected="93.0%")
        assert caught.value.zh == "只有受理部门可以处理该申诉"
        decided = indicator_appeals.decide(session, _staff(session, "NJ-SUP"), filed, True,
                                           now=local(2026, 10, 8, 9), corrected="93.0%")
        assert (decided.upheld, decided.corrected) == (True, "93.0%")


def test_the_cli_draws_once(centre, capsys):
    drawn = run_cli(capsys, "quality", "draw", "--plan", "monthly", "--period", "2026-08-20",
                    "--seed", "7", "--json")
    assert (drawn.code, drawn.json()) == (0, {"monthly": {
        "period_start": "2026-08-01", "seed": 7, "inspections": SAMPLED, "new": True}})
    again = run_cli(capsys, "quality", "draw", "--plan", "monthly", "--period", "2026-08-01")
    assert (again.code, again.out) == (
        0, f"质检计划 monthly：2026-08-01 起的周期抽取 {SAMPLED} 件（随机种子 7，此前已抽取）\n")
    unknown = run_cli(capsys, "quality", "draw", "--plan", "yearly")
    assert (unknown.code, unknown.err) == (
        2, "错误：字段 plan：没有这个质检计划 | error: field plan: no plan 'yearly'\n")


def test_a_result_keeps_the_scorecard_revision_it_was_scored_against(centre, tmp_path):
    folder = tmp_path / "quality_data"
    shutil.copytree(QUALITY_DIR, folder)
    card_file = folder / "scorecards" / "service.yaml"
    with session_scope(centre) as session:
        draw_period(session, plan("monthly", folder), date(2026, 8, 1), now=SCORED_AT,
                    timezone=TZ)
        first, second = session.scalars(select(Inspection).order_by(Inspection.id).limit(2))
        before = score_inspection(session, first.inspector, first, {**ALL_MET, "accuracy": False},
                                  "地址记录错误", now=SCORED_AT, folder=folder)
        # The centre reweighs accuracy from 30 to 60 (a new revision of the same card).
        card_file.write_text(card_file.read_text("utf-8").replace("weight: 30\n    criteria: 客户",
                                                                  "weight: 60\n    criteria: 客户"),
                             "utf-8")
        after = score_inspection(session, second.inspector, second,
                                 {**ALL_MET, "accuracy": False}, "地址记录错误", now=SCORED_AT,
                                 folder=folder)
        assert (before.score, after.score) == (70.0, 53.8)  # 70 of 100 points, then 70 of 130
        assert before.revision != after.revision
        kept = parse_scorecard(session.get(Result, before.id).card.text).card
        assert [item.weight for item in kept.items] == [20, 30, 30, 20, 0]


def test_the_scheduled_flow_draws_a_period_once(centre, prefect_harness):
    assert [quality_draw(today=date(2026, 9, 1)) for _ in range(2)] == [{"monthly": SAMPLED}] * 2
    with session_scope(centre) as session:
        assert len(session.scalars(select(Sample)).all()) == 1
