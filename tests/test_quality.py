"""Service quality on SQLite and PostgreSQL: weights and veto items, the stored seed redrawing the
sample, no ticket sampled twice in a plan, the appeal window across National Day 2026 and its 调休
Saturday, a lapsed window published and then never again, the review refused to the inspector, an
amendment as a new version with the old one readable, and indicator appeals: routed by the rule
table, decided once, an upheld one recomputing the figure on every screen. The same rules on the
lifecycle engine: tests/test_quality_cases.py."""

import shutil
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from flows.quality import quality_draw
from models.core.enums import StaffRole
from models.core.errors import InputError
from models.messaging.outbox import OutboxMessage
from models.org.organisation import Staff
from models.quality.lifecycle import Action, ResultStatus
from models.quality.scorecard import parse_scorecard, score
from models.quality.tables import IndicatorAppeal, Inspection, Result, Sample
from models.statistics.indicators import Kind
from models.tickets.ticket import Ticket, TicketClock
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
from tasks.statistics.aggregations import indicators
from tasks.statistics.figures import Statistics, local_period, shown
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


def _clocks(session) -> None:
    """August's reply clocks: Nanjing's Q001-Q005 met on time, Q006 and Q007 late; Suzhou's
    Q008 late. 南京 5/7 on time, 江苏 5/8."""
    for ticket in session.scalars(select(Ticket).where(Ticket.number <= "Q008")):
        due = ticket.received_at + timedelta(hours=4)
        late = ticket.number in ("Q006", "Q007", "Q008")
        session.add(TicketClock(ticket_id=ticket.id, clock="reply", label="答复", due_at=due,
                                met_at=due + timedelta(hours=2 if late else -1)))
    session.flush()


def _on_time(session, code: str) -> str:
    """The on-time rate of August as the staff member's statistics page shows their unit."""
    staff = _staff(session, code)
    stats = Statistics(session, staff)
    period = local_period(date(2026, 8, 1), date(2026, 8, 31), TZ, SCORED_AT)
    return shown(Kind.ratio, stats.figures(indicators().get("on_time_rate"), period).total.value)


def _file(session, code="A1", tickets="Q006，Q007", **kw):
    return indicator_appeals.file_appeal(session, _staff(session, code), "on_time_rate",
                                         date(2026, 8, 15), tickets, kw.pop("reason", "客户要求延期"),
                                         now=SCORED_AT, timezone=TZ, **kw)


def test_an_upheld_indicator_appeal_takes_its_tickets_out_of_the_figure_everywhere(centre):
    with session_scope(centre) as session:
        _clocks(session)
        assert (_on_time(session, "NJ-SUP"), _on_time(session, "SUP")) == ("71.4%", "62.5%")
        filed = _file(session)
        # routed by the rule table to the service centre of the agent's own unit, five working
        # days across National Day (10-01..07 off, Saturday 10-10 a working day)
        assert (filed.department.code, filed.due_at, filed.figure, filed.state) == (
            "NJ", local(2026, 10, 13, 10), "71.4%", "待处理")
        assert [t.number for t in filed.tickets] == ["Q006", "Q007"]
        for who, opinion, zh in [("SUP", "同意", "只有受理部门的负责人可以处理该申诉"),
                                 ("A2", "同意", "只有受理部门的负责人可以处理该申诉"),
                                 ("A1", "同意", "申诉人不能处理自己的申诉"),
                                 ("NJ-SUP", "  ", "请填写处理意见（不超过2000字）")]:
            with pytest.raises(InputError) as caught:
                indicator_appeals.decide(session, _staff(session, who), filed, True, opinion,
                                         now=SCORED_AT, timezone=TZ)
            assert caught.value.zh == zh
        decided = indicator_appeals.decide(session, _staff(session, "NJ-SUP"), filed, True,
                                           "核实客户来电要求延期，予以剔除",
                                           now=local(2026, 10, 8, 9), timezone=TZ)
        assert (decided.state, decided.figure, decided.corrected) == ("申诉成立", "71.4%", "100.0%")
        # the department's supervisor was told when it was filed, the agent when it was decided
        told = session.execute(select(OutboxMessage.key, OutboxMessage.body_text)
                               .order_by(OutboxMessage.id)).all()
        head, agent = _staff(session, "NJ-SUP").id, _staff(session, "A1").id
        assert told == [
            (f"indicator-appeal:{filed.id}:filed:{head}:sms",
             f"【指标申诉待处理】南京市王坐席对2026年08月“按时办结率”（71.4%）提出申诉（第{filed.id}号），"
             "请南京坐席班于2026-10-13 10:00前处理。"),
            (f"indicator-appeal:{filed.id}:decided:{agent}:sms",
             f"【指标申诉结果】您对2026年08月“按时办结率”的申诉（第{filed.id}号）申诉成立，"
             "指标值由71.4%更正为100.0%。处理意见：核实客户来电要求延期，予以剔除")]
        # the city's figure and the province's (which counts Nanjing's tickets too) both change
        assert (_on_time(session, "NJ-SUP"), _on_time(session, "SUP")) == ("100.0%", "83.3%")
        with pytest.raises(InputError) as caught:  # an exempted ticket is not contested again
            _file(session, tickets="Q007")
        assert caught.value.zh == "以下工单不在本单位该月的“按时办结率”统计中：Q007"


def test_an_upheld_indicator_appeal_is_seen_at_once_on_rolled_up_days(centre):
    from tasks.statistics.rollup import roll_day, split

    with session_scope(centre) as session:
        _clocks(session)
    for day in (date(2026, 8, 1) + timedelta(days=n) for n in range(31)):
        with session_scope(centre) as session:  # August from the daily rollup
            roll_day(session, day, now=SCORED_AT, timezone=TZ)
    with session_scope(centre) as session:
        august = local_period(date(2026, 8, 1), date(2026, 8, 31), TZ, SCORED_AT)
        assert len(split(session, august, timezone=TZ)[0]) == 31
        assert (_on_time(session, "NJ-SUP"), _on_time(session, "SUP")) == ("71.4%", "62.5%")
        decided = indicator_appeals.decide(session, _staff(session, "NJ-SUP"), _file(session),
                                           True, "予以剔除", now=local(2026, 10, 8, 9), timezone=TZ)
        assert decided.corrected == "100.0%"
    with session_scope(centre) as session:
        assert (_on_time(session, "NJ-SUP"), _on_time(session, "SUP")) == ("100.0%", "83.3%")


def test_an_indicator_appeal_is_refused_tickets_outside_its_figure_and_a_rejected_one_changes_nothing(
        centre):
    with session_scope(centre) as session:
        _clocks(session)
        for kw, zh in [
                ({"tickets": "Q006, Q008, Q900"},  # Suzhou's ticket, and one without a clock
                 "以下工单不在本单位该月的“按时办结率”统计中：Q008、Q900"),
                ({"tickets": " , "}, "请填写申诉涉及的工单编号"),
                ({"reason": ""}, "申诉须填写理由（不超过2000字）")]:
            with pytest.raises(InputError) as caught:
                _file(session, **kw)
            assert caught.value.zh == zh
        with pytest.raises(InputError) as caught:
            indicator_appeals.file_appeal(session, _staff(session, "A1"), "answer_rate",
                                          date(2026, 8, 1), "Q006", "话务", now=SCORED_AT,
                                          timezone=TZ)
        assert caught.value.zh == "该指标不受理申诉"
        filed = _file(session, tickets="Q006")
        with pytest.raises(InputError) as caught:
            _file(session, code="A2", tickets="Q007,Q006")
        assert caught.value.zh == f"其中有工单已在第{filed.id}号申诉中"
        indicator_appeals.decide(session, _staff(session, "NJ-SUP"), filed, False,
                                 "延期未经客户同意", now=SCORED_AT, timezone=TZ)
        assert (filed.state, filed.corrected, _on_time(session, "NJ-SUP")) == (
            "申诉不成立", None, "71.4%")
        # what each one sees: the filer and the deciding department, the supervisors above;
        # not an agent of another unit
        seen = {code: [a.id for a in indicator_appeals.list_appeals(session, _staff(session, code))]
                for code in ("A1", "A2", "NJ-SUP", "SUP", "B1")}
        assert seen == {"A1": [filed.id], "A2": [filed.id], "NJ-SUP": [filed.id],
                        "SUP": [filed.id], "B1": []}
        with pytest.raises(LookupError):
            indicator_appeals.get_appeal(session, _staff(session, "B1"), filed.id)


def test_two_people_deciding_one_indicator_appeal_at_once_decide_it_once(centre):
    with session_scope(centre) as session:
        _clocks(session)
        appeal_id = _file(session).id
        session.add(Staff(code="NJ-2", name="南京副值班长", role=StaffRole.supervisor,
                          phone="13900000001", department=_staff(session, "NJ-SUP").department))
    with session_scope(centre) as first, session_scope(centre) as second:
        one = indicator_appeals.get_appeal(first, _staff(first, "NJ-SUP"), appeal_id)
        other = indicator_appeals.get_appeal(second, _staff(second, "NJ-2"), appeal_id)
        assert one.upheld is None and other.upheld is None  # both opened the undecided appeal
        indicator_appeals.decide(first, _staff(first, "NJ-SUP"), one, True, "成立",
                                 now=SCORED_AT, timezone=TZ)
        first.commit()
        with pytest.raises(InputError) as caught:
            indicator_appeals.decide(second, _staff(second, "NJ-2"), other, False, "不成立",
                                     now=SCORED_AT, timezone=TZ)
        assert caught.value.zh == "该申诉已处理"
        second.rollback()
    with session_scope(centre) as session:
        kept = session.get(IndicatorAppeal, appeal_id)
        assert (kept.state, kept.opinion, kept.decided_by.code) == ("申诉成立", "成立", "NJ-SUP")


def test_an_overdue_indicator_appeal_reminds_its_department_once_a_day_until_decided(centre):
    with session_scope(centre) as session:
        _clocks(session)
        filed = _file(session)  # due 2026-10-13 10:00
        chased = [indicator_appeals.chase_overdue(session, now=at, timezone=TZ) for at in (
            local(2026, 10, 13, 9), local(2026, 10, 13, 11), local(2026, 10, 13, 16),
            local(2026, 10, 14, 8, 30))]
        assert chased == [0, 1, 0, 1]
        [text] = session.scalars(select(OutboxMessage.body_text).where(
            OutboxMessage.template == "indicator_appeal_overdue").limit(1))
        assert text == (f"【指标申诉已超期】南京市王坐席对2026年08月“按时办结率”的申诉（第{filed.id}号）"
                        "已于2026-10-13 10:00到期，南京坐席班尚未处理，请尽快处理。")
        indicator_appeals.decide(session, _staff(session, "NJ-SUP"), filed, False, "不予剔除",
                                 now=local(2026, 10, 14, 9), timezone=TZ)
        assert indicator_appeals.chase_overdue(session, now=local(2026, 10, 15, 8, 30),
                                               timezone=TZ) == 0


def test_the_cli_files_lists_and_decides_an_indicator_appeal(centre, capsys):
    with session_scope(centre) as session:
        _clocks(session)
    filed = run_cli(capsys, "quality", "indicator-appeal", "file", "--by", "A1", "--indicator",
                    "on_time_rate", "--month", "2026-08", "--tickets", "Q006,Q007",
                    "--reason", "客户要求延期", "--json")
    assert filed.code == 0, filed.err
    row = filed.json()
    assert (row["department"], row["tickets"], row["state"]) == ("南京坐席班", ["Q006", "Q007"], "待处理")
    listed = run_cli(capsys, "quality", "indicator-appeal", "list", "--by", "NJ-SUP", "--pending",
                     "--json")
    assert [r["id"] for r in listed.json()] == [row["id"]]
    refused = run_cli(capsys, "quality", "indicator-appeal", "decide", str(row["id"]), "--by",
                      "B1", "--upheld", "--opinion", "同意")
    assert (refused.code, refused.err) == (2, "错误：字段 appeal：没有这个指标申诉 | error: field "
                                              f"appeal: no appeal {row['id']}\n")
    decided = run_cli(capsys, "quality", "indicator-appeal", "decide", str(row["id"]), "--by",
                      "NJ-SUP", "--upheld", "--opinion", "核实无误")
    assert (decided.code, decided.out) == (
        0, f"指标申诉 {row['id']}：申诉成立，指标值 71.4% 更正为 100.0%\n")
    bad_month = run_cli(capsys, "quality", "indicator-appeal", "file", "--by", "A1", "--indicator",
                        "on_time_rate", "--month", "八月", "--tickets", "Q001", "--reason", "x")
    assert (bad_month.code, bad_month.err) == (
        2, "错误：字段 month：月份格式无效，应为 YYYY-MM | error: field month: not a month: '八月'\n")


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
