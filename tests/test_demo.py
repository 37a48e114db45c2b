"""The demo centre on SQLite and PostgreSQL: tickets at believable stages with their history, work
in every demo user's inbox, and a first audit that chases a handful of named people."""

from collections import Counter
from datetime import datetime, timedelta

import pendulum
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from flows.lifecycle import lifecycles
from models import Department, OutboxMessage, Staff, Step, Ticket
from models.core.enums import OPEN_STATUSES, DepartmentKind, StaffRole, StepStatus, TicketStatus
from models.quality.lifecycle import ResultStatus
from models.quality.tables import IndicatorAppeal, Inspection, Result
from models.tickets.ticket import Event
from models.workforce.config import load_workforce_config
from models.workforce.tables import CallRecord, IndicatorReading, RosterShift, StaffingPlan
from tasks.cases.store import open_case_of
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.demo.seed import seed_demo
from tasks.quality.indicator_appeals import may_decide
from tasks.statistics.aggregations import indicators
from tasks.statistics.figures import Statistics, local_period
from tasks.statistics.live import board
from tasks.tickets.calendar_store import load_work_calendar
from tasks.tickets.rule_store import ensure_default_rules, load_rules
from tests.cli import run_cli
from tests.portal import login, portal_app, serve

# The department kinds the lifecycles hand work to; metering gets it by re-dispatch. Quality
# management inspects tickets; its work is in the inspectors' queues, not in steps.
WORKING_KINDS = set(DepartmentKind) - {DepartmentKind.quality}


@pytest.fixture
def demo(db_url, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDLINE_AUDIT_DIR", str(tmp_path / "audit"))
    result = run_cli(capsys, "demo", "seed", "--json")
    assert result.code == 0, result.err
    return result.json()


def test_open_tickets_wait_at_a_step_with_a_named_person_of_its_department(db_url, demo):
    assert (demo["tickets"], demo["runs"]) == (140, 0)
    with session_scope(db_url) as session:
        tickets = session.scalars(select(Ticket)).all()
        assert sum(t.status in OPEN_STATUSES for t in tickets) == demo["open"]
        for ticket in tickets:
            open_steps = [s for s in ticket.steps if s.status == StepStatus.open]
            if ticket.status in OPEN_STATUSES:
                [step] = open_steps
                assert step.assignee.department_id == step.department_id, ticket.number
                assert step.assignee.role in (StaffRole.agent, StaffRole.handler,
                                              StaffRole.supervisor)
                clock = lifecycles()[ticket.type].step(step.step_key).clock
                assert step.due_at == next((c.due_at for c in ticket.clocks if c.clock == clock),
                                           None), ticket.number
                assert ticket.flow_run_id is None  # no Prefect API here: stored only
            else:
                assert ticket.status == TicketStatus.closed and open_steps == []
                assert all(c.met_at is not None for c in ticket.clocks), ticket.number
                assert {"close", "close_linked"} & {s.step_key for s in ticket.steps}, ticket.number
        stages = Counter(s.step_key for s in session.scalars(
            select(Step).where(Step.status == StepStatus.open)))
        # Every step a person waits at appears: contact, department, review, callback, ...
        assert {"contact", "handle", "inspect", "arrive", "restore", "review", "callback",
                "reply", "escalate"} <= set(stages)
        # Each done step of a person was done by a named person, with a timeline entry.
        done_by_people = session.scalar(select(func.count()).select_from(Step).where(
            Step.status == StepStatus.done, Step.form.is_not(None),
            Step.completed_by_id.is_(None)))
        assert done_by_people == 0
        # Nothing of a ticket waits to be sent: each customer's receipt went out when the ticket
        # came in. The demo's indicator appeal has told the centre's supervisor.
        messages = session.scalars(select(OutboxMessage)).all()
        assert {(m.template, m.status) for m in messages} == {
            ("customer_ack", "sent"), ("indicator_appeal_filed", "queued")}
        assert {m.ticket_id for m in messages if m.template == "customer_ack"} == set(
            session.scalars(select(Ticket.id)))


def test_neighbours_fault_calls_link_to_the_known_fault_in_their_area(db_url, demo):
    with session_scope(db_url) as session:
        linked = session.scalars(select(Step).where(Step.step_key == "known_fault")).all()
        links = {s.ticket: session.scalar(select(Ticket).where(
            Ticket.number == s.form_data["linked_no"])) for s in linked
            if s.form_data["result"] == "known"}
        # Each linked call found an earlier fault of its own district; any call of the demo's
        # that came in just after another fault nearby is linked too.
        for call, fault in links.items():
            assert (fault.type, fault.region) == (call.type, call.region), call.number
            assert fault.received_at < call.received_at, call.number
        # The three neighbours' calls in 江宁, to its open fault.
        [cluster] = [f for f, n in Counter(links.values()).items() if n >= 3]
        assert cluster.region.code == "320115" and cluster.status in OPEN_STATUSES
        neighbours = session.scalars(select(Ticket).join(Step).where(
            Step.step_key == "inform")).all()
        assert set(neighbours) == set(links)
        assert {t.status for t in neighbours} == {TicketStatus.closed}


def test_every_demo_users_inbox_has_work(db_url, demo):
    with session_scope(db_url) as session:
        waiting = Counter(session.scalars(select(Step.department_id).where(
            Step.status == StepStatus.open)))
        departments = session.scalars(select(Department)).all()
        idle = [d.code for d in departments if not waiting[d.id] and d.kind in WORKING_KINDS]
        assert idle == []
        assert {d.kind for d in departments if waiting[d.id]} == WORKING_KINDS
    with serve(portal_app()) as base_url:
        for code in ["S0001", "S0002", "S0100", "S0107", "D3201-marketing-1", "D3201-marketing-H",
                     "D320102-repair-1", "D3201-discipline-1", "D3205-metering-2"]:
            inbox = login(base_url, code, "gridline-demo").get("/inbox").text
            assert "共 0 条" not in inbox and "/steps/" in inbox, code


def chased(db_url, now: datetime, capsys) -> tuple[dict, set[str]]:
    """The audit at `now`, having checked each reminder went to the person holding the ticket's
    step; and the departments the audit's workbooks name."""
    result = run_cli(capsys, "audit", "run", "--now", now.isoformat(), "--json")
    assert result.code == 0, result.err
    report = result.json()
    with session_scope(db_url) as session:
        messages = session.scalars(select(OutboxMessage).where(
            OutboxMessage.template != "customer_ack", OutboxMessage.ticket_id.is_not(None))).all()
        holders = set()
        for message in messages:
            step = session.scalar(select(Step).where(Step.ticket_id == message.ticket_id,
                                                     Step.status == StepStatus.open))
            person = step.assignee
            assert message.recipient in (person.phone, person.email), message.key
            assert person.department_id == step.department_id
            assert "未指定" not in message.body_text
            holders.add(step.department.name)
        # A text and an e-mail for each clock, nobody else told (no escalation yet).
        clocks = report["about_to_expire"] + report["overdue"]
        assert Counter(m.channel for m in messages) == {"sms": clocks, "email": clocks}
        assert report["queued"] == 2 * clocks
    departments = set()
    for stage in ("about_to_expire", "overdue"):
        summary = load_workbook(report["workbooks"][stage])["部门汇总"]
        departments |= {row[0] for row in summary.iter_rows(min_row=2, values_only=True)
                        if row[0] != "合计"}
    assert departments == holders
    return report, departments


def test_first_audit_chases_the_handful_the_demo_says_it_set_up(db_url, demo, capsys):
    report, _ = chased(db_url, pendulum.now("UTC"), capsys)
    # Whatever the day: the fault clocks run in natural hours, so some always stand near or past.
    assert (report["about_to_expire"], report["overdue"]) == (
        demo["about_to_expire"], demo["overdue"])
    assert demo["about_to_expire"] >= 1 and demo["overdue"] >= 1


def test_on_a_working_morning_the_first_audit_chases_six_people_of_six_departments(
        db_url, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDLINE_AUDIT_DIR", str(tmp_path / "audit"))
    thursday = pendulum.datetime(2026, 12, 3, 10, 10, tz="Asia/Shanghai")
    with session_scope(db_url) as session:
        ensure_default_rules(session)
        seed_demo(session, now=thursday, calendar=load_work_calendar(session, "Asia/Shanghai"),
                  rules=load_rules(session))
    report, departments = chased(db_url, thursday, capsys)
    assert (report["about_to_expire"], report["overdue"], report["queued"]) == (3, 3, 12)
    assert departments == {"95598客户服务中心", "梁溪区抢修班", "常熟市供电服务中心",
                           "姑苏区供电服务中心", "江阴市抢修班", "苏州市供电公司纪检监察室"}


def test_demo_callers_are_printed_and_recognised_at_intake(db_url, capsys):
    result = run_cli(capsys, "demo", "seed", "--tickets", "0")
    assert result.code == 0, result.err
    assert "19900000001" in result.out and "320115 江宁区" in result.out
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
    with serve(portal_app()) as base_url:
        page = login(base_url, "S0100", "gridline-demo").get("/intake?phone=19900000002").text
        assert "未找到该号码的客户档案" not in page and "江宁区" in page


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
def test_the_same_seed_gives_the_same_centre(empty_db_url, tmp_path):
    from tasks.core.db import upgrade_schema

    now = pendulum.datetime(2026, 12, 1, 9, 30, tz="Asia/Shanghai")
    pictures = []
    for url in (empty_db_url, f"sqlite:///{tmp_path / 'again.db'}"):
        upgrade_schema(url)
        with session_scope(url) as session:
            ensure_default_rules(session)
            seed_demo(session, now=now, calendar=load_work_calendar(session, "Asia/Shanghai"),
                      rules=load_rules(session), customers=60, tickets=40)
            pictures.append(session.execute(
                select(Ticket.number, Ticket.status, Ticket.received_at, Step.step_key,
                       Step.status, Staff.code, Step.opened_at)
                .join(Step, Step.ticket_id == Ticket.id).outerjoin(Staff, Staff.id == Step.assignee_id)
                .order_by(Ticket.number, Step.id)).all())
            pictures.append(session.scalar(select(func.count()).select_from(Event)))
    assert pictures[0] == pictures[2] and pictures[1] == pictures[3] and len(pictures[0]) > 50


def test_the_demo_inspectors_have_last_months_sample_and_an_agent_a_result_to_appeal(db_url):
    now = pendulum.datetime(2026, 12, 2, 10, 0, tz="Asia/Shanghai")
    with session_scope(db_url) as session:
        counts = seed_demo(session, now=now, calendar=load_work_calendar(session, "Asia/Shanghai"),
                           rules=load_rules(session))
        results = session.scalars(select(Result).order_by(Result.id)).all()
        dealt = Counter(session.scalars(select(Staff.code).join(
            Inspection, Inspection.inspector_id == Staff.id)))
        assert [(r.status, r.passed) for r in results] == [
            (ResultStatus.published, True), (ResultStatus.prepublished, False)]
        failed = results[1]
        assert failed.window_ends_at > now and failed.inspection.agent.role == StaffRole.agent
        case = open_case_of(session, "quality_result", failed.inspection_id)
        assert (case.status, case.flow_run_id, case.region_id) == (
            "open", None, failed.inspection.agent.department.region_id)  # its run starts with up
        months = {(i.sample.period_start, i.sample.period_end)
                  for i in session.scalars(select(Inspection))}
        # one indicator appeal waits on the centre's supervisor, over a ticket that was late
        [appeal] = session.scalars(select(IndicatorAppeal)).all()
        supervisor = session.scalar(select(Staff).where(Staff.code == "S0001"))
        assert (counts["indicator_appeals"], appeal.state, appeal.filed_by.code,
                appeal.period_start, may_decide(supervisor, appeal)) == (
            1, "待处理", "S0100", pendulum.date(2026, 12, 1), True)
        assert any(c.met_at is None or c.met_at > c.due_at for c in appeal.tickets[0].clocks)
    assert sorted(dealt) == ["S0003", "S0004"] and sum(dealt.values()) == counts["inspections"]
    assert dealt["S0003"] - dealt["S0004"] in (0, 1)  # dealt round-robin, the first first
    assert months == {(pendulum.date(2026, 11, 1), pendulum.date(2026, 12, 1))}


def _telephony(session) -> dict:
    return {table.__name__: session.scalar(select(func.count()).select_from(table))
            for table in (Staff, CallRecord, IndicatorReading, StaffingPlan, RosterShift)}


def test_the_live_demos_wallboard_has_this_weeks_plan_and_roster(db_url, capsys):
    result = run_cli(capsys, "demo", "seed", "--tickets", "0", "--workforce", "--json")
    assert result.code == 0, result.err
    counts = result.json()
    assert counts["plan_intervals"] == 2 * 7 * 48 and counts["shifts"] > 0
    assert (counts["live_readings"], counts["staff"]) == (4, 105)
    timezone = get_settings().timezone
    with session_scope(db_url) as session:
        supervisor = session.scalar(select(Staff).where(Staff.code == "S0001"))
        now = pendulum.now("UTC")
        stats = Statistics(session, supervisor)
        shown = board(session, stats, load_workforce_config(), now)
        groups = {g["group"]: g for g in shown["groups"]}
        # The pool's row is there when some of its agents are on shift now: the demo is short of
        # agents (the shortfall coloured), and which intervals go short is the solver's choice.
        assert {"故障报修", "咨询查询"} <= set(groups) <= {"故障报修", "咨询查询", "公共坐席"}
        # The wall has each group's calls waiting and answer rate, from the demo's telephony.
        for group in ("故障报修", "咨询查询"):
            waiting, rate = groups[group]["queue_length"]["value"], groups[group]["answer_rate"]["value"]
            assert waiting is not None and waiting >= 0 and 0.5 < rate <= 1, groups[group]
        # The dashboard counts yesterday's calls: every record of that local day, and there are some.
        yesterday = now.in_timezone(timezone).date() - timedelta(days=1)
        day = local_period(yesterday, yesterday, timezone, now)
        offered = stats.figures(indicators().get("calls_offered"), day).total.value
        assert offered == session.scalar(select(func.count()).select_from(CallRecord).where(
            CallRecord.offered_at >= day.start, CallRecord.offered_at < day.end)) > 0
        assert session.scalar(select(func.max(CallRecord.offered_at))) <= now
        assert counts["calls"] == session.scalar(select(func.count()).select_from(CallRecord))
        before = _telephony(session)
        # 故障报修 has agents of its own; 咨询查询 has none, the pool's serve it.
        assert groups["咨询查询"]["on_duty"] is None
        assert shown["staffing"]["on_duty"] == session.scalar(
            select(func.count()).select_from(RosterShift).where(RosterShift.start_at <= now,
                                                                RosterShift.end_at > now))
        assert shown["staffing"]["required"] == (groups["故障报修"]["planned"]
                                                 + groups["咨询查询"]["planned"]) > 0
    # Seeding again loads nothing: no agent, call, reading, plan or shift twice.
    again = run_cli(capsys, "demo", "seed", "--tickets", "0", "--workforce", "--json")
    assert again.code == 0 and "already seeded" in again.out
    with session_scope(db_url) as session:
        assert _telephony(session) == before
    # The new agents log in with the demo's password, as the first eight do.
    with serve(portal_app()) as base_url:
        assert "/logout" in login(base_url, "S0119", "gridline-demo").get("/inbox").text
