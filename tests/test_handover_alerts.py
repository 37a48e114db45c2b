"""Shift handover and multi-level alerts, through the CLI and the outbox, on SQLite and PostgreSQL."""

from datetime import timedelta

import pendulum
import pytest
import yaml
from sqlalchemy import select

from models.core.enums import StaffRole, StepStatus
from models.messaging.outbox import OutboxMessage
from models.org.organisation import Staff
from models.tickets.ticket import Step, Ticket
from models.workforce.config import DEFAULT_FILE
from models.workforce.tables import HandoverItem, RosterShift, StaffingPlan
from tasks.core.db import session_scope
from tests.cli import run_cli

TZ = "Asia/Shanghai"


def local(text: str):
    return pendulum.parse(text, tz=TZ).in_timezone("UTC")


@pytest.fixture
def centre(db_url, capsys):
    # The organisation without the demo's tickets: only the steps each test makes are handed over.
    assert run_cli(capsys, "demo", "seed", "--tickets", "0").code == 0
    with session_scope(db_url) as session:
        return {s.code: s.id for s in session.scalars(select(Staff))}


def add_shift(session, staff_id, start, end, code="X"):
    session.add(RosterShift(staff_id=staff_id, shift=code, start_at=local(start), end_at=local(end)))


def messages(url, template):
    with session_scope(url) as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)
                               .order_by(OutboxMessage.key)).all()


def test_handover_moves_exactly_the_open_items_of_the_ending_shift(db_url, centre, capsys):
    ticket_no = run_cli(capsys, "ticket", "create", "--no-start", "--type", "complaint",
                        "--phone", "13812345678", "--name", "张三", "--address", "南京市玄武区中山路1号",
                        "--content", "抄表员态度恶劣", "--json").json()["number"]
    early, late, middle, night = "S0100", "S0102", "S0104", "S0105"
    with session_scope(db_url) as session:
        for code in ("S0100", "S0101"):
            add_shift(session, centre[code], "2026-11-24 07:00", "2026-11-24 15:00", "A")
        for code in ("S0102", "S0103"):
            add_shift(session, centre[code], "2026-11-24 15:00", "2026-11-24 23:00", "P")
        add_shift(session, centre[middle], "2026-11-24 09:00", "2026-11-24 17:00", "D")
        add_shift(session, centre[night], "2026-11-23 23:00", "2026-11-24 07:00", "E")
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == ticket_no))

        def step(n, key, assignee, status=StepStatus.open, due="2026-11-24 20:00"):
            row = Step(ticket_id=ticket_id, step_key=key, attempt=n, status=status,
                       assignee_id=centre[assignee] if assignee else None,
                       opened_at=local("2026-11-24 08:00"), due_at=local(due))
            session.add(row)
            return row

        steps = {
            "open_of_ending": step(1, "review", early),
            "callback_of_ending": step(2, "callback", "S0101"),
            "done_of_ending": step(3, "review", early, status=StepStatus.done),
            "open_of_middle_shift": step(4, "review", middle),
            "open_of_earlier_shift": step(5, "review", night),
            "unheld_callback_due": step(6, "callback", None),
            "unheld_callback_later": step(7, "callback", None, due="2026-11-25 10:00"),
        }
        session.flush()
        ids = {name: s.id for name, s in steps.items()}
        before = {s.id: s.assignee_id for s in steps.values()}

    result = run_cli(capsys, "handover", "--at", "2026-11-24T15:05:00+08:00", "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert report["change_at"] == "2026-11-24T15:00:00+08:00"
    assert sorted(report["receivers"]) == sorted([late, "S0103", middle])
    moved = {ids["open_of_ending"], ids["callback_of_ending"], ids["unheld_callback_due"]}
    receivers = {centre[c] for c in report["receivers"]}
    with session_scope(db_url) as session:
        after = {s.id: s.assignee_id for s in session.scalars(select(Step).where(Step.id.in_(before)))}
        items = session.scalars(select(HandoverItem)).all()
        kinds = {i.step_id: i.kind for i in items}
    assert {i for i in before if after[i] != before[i]} == moved
    assert {after[i] for i in moved} == receivers  # dealt one each
    assert kinds == {ids["open_of_ending"]: "open_step", ids["callback_of_ending"]: "callback",
                     ids["unheld_callback_due"]: "callback"}
    lists = [m for m in messages(db_url, "handover_list") if m.channel == "sms"]
    assert len(lists) == 3 and all(ticket_no in m.body_text and "交接班" in m.body_text
                                   for m in lists)

    again = run_cli(capsys, "handover", "--at", "2026-11-24T15:20:00+08:00", "--json").json()
    assert again["items"] == []
    assert len([m for m in messages(db_url, "handover_list") if m.channel == "sms"]) == 3


@pytest.fixture
def plan_and_roster(db_url, centre):
    start = local("2026-11-24 09:00")
    with session_scope(db_url) as session:
        for i in range(4):
            session.add(StaffingPlan(group="咨询查询", interval_start=start + timedelta(minutes=30 * i),
                                     calls=100, aht_s=180, agents=7, rostered=10, service_level=0.8,
                                     asa_s=8, occupancy=0.7, abandon_rate=0, made_at=start))
        agents = [centre[f"S01{i:02d}"] for i in range(8)] + [centre["S0001"], centre["S0002"]]
        # 10 on duty at 09:00, 9 at 09:30, 7 from 10:00 on.
        for n, staff_id in enumerate(agents):
            end = {9: "2026-11-24 09:30", 8: "2026-11-24 10:00", 7: "2026-11-24 10:00"}
            add_shift(session, staff_id, "2026-11-24 08:00", end.get(n, "2026-11-24 16:00"))


def test_understaffing_alerts_each_level_to_its_people_once(db_url, centre, plan_and_roster,
                                                            capsys):
    result = run_cli(capsys, "alerts", "--now", "2026-11-24T08:30:00+08:00", "--json")
    assert result.code == 0, result.err
    windows = result.json()
    assert [(w["level"], w["start"][11:16], w["end"][11:16], w["planned"]) for w in windows] == [
        (1, "09:30", "10:00", 9), (2, "10:00", "11:00", 7)]
    sms = [m for m in messages(db_url, "workforce_alert") if m.channel == "sms"]
    with session_scope(db_url) as session:
        phones = {s.role: s.phone for s in session.scalars(
            select(Staff).where(Staff.code.in_(["S0001", "S0002"])))}
    yellow = [m for m in sms if "黄色预警" in m.body_text]
    red = [m for m in sms if "红色预警" in m.body_text]
    assert [m.recipient for m in yellow] == [phones[StaffRole.supervisor]]
    assert sorted(m.recipient for m in red) == sorted(phones.values())
    assert "需求 10 人，已排 7 人" in red[0].body_text and "10:00至11:00" in red[0].body_text
    assert run_cli(capsys, "alerts", "--now", "2026-11-24T08:45:00+08:00").code == 0
    assert len([m for m in messages(db_url, "workforce_alert") if m.channel == "sms"]) == 3


def test_live_indicator_levels_come_from_the_settings_file(db_url, centre, tmp_path, monkeypatch,
                                                           capsys):
    result = run_cli(capsys, "calls", "live", "--group", "故障报修", "--queue-length", "35",
                     "--answer-rate", "0.95", "--at", "2026-11-24T10:00:00+08:00", "--json")
    assert result.code == 0, result.err
    assert result.json() == {"queue_length": {"level": 2, "label": "红色预警"}, "answer_rate": None}
    sms = [m for m in messages(db_url, "workforce_alert") if m.channel == "sms"]
    assert len(sms) == 2 and all("排队人数过多" in m.body_text and "故障报修" in m.body_text
                                 for m in sms)

    config = yaml.safe_load(DEFAULT_FILE.read_text("utf-8"))
    config["alerts"][2]["levels"][1]["threshold"] = 50  # this centre tolerates longer queues
    path = tmp_path / "workforce.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    monkeypatch.setenv("GRIDLINE_WORKFORCE_FILE", str(path))
    calmer = run_cli(capsys, "calls", "live", "--group", "故障报修", "--queue-length", "35",
                     "--at", "2026-11-24T10:05:00+08:00", "--json").json()
    assert calmer == {"queue_length": {"level": 1, "label": "黄色预警"}}
    bad = run_cli(capsys, "calls", "live", "--group", "故障报修", "--answer-rate", "95")
    assert bad.code == 2 and "answer_rate" in bad.err
