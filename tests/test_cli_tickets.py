"""The CLI against real SQLite and PostgreSQL: intake, show, rules, calendar, demo, bad input."""

import pytest
from sqlalchemy import func, select

from flows.lifecycle import lifecycles
from models import Customer, Department, Region, Staff, Ticket
from models.core.enums import DepartmentKind, TicketStatus, TicketType
from models.messaging.outbox import OutboxMessage
from tasks.core.db import session_scope
from tasks.tickets.lifecycle_store import acknowledge
from tasks.tickets.store import get_ticket
from tests.cli import run_cli

COMPLAINT = ["ticket", "create", "--type", "complaint", "--phone", "138-1234-5678",
             "--name", "张三", "--address", "南京市玄武区中山路1号", "--content", "抄表员态度恶劣"]


@pytest.fixture
def seeded(db_url, capsys):
    result = run_cli(capsys, "demo", "seed", "--json")
    assert result.code == 0, result.err
    return result.json()


def ticket_count(url) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(Ticket))


def test_demo_seed_builds_a_believable_centre_once(db_url, seeded, capsys):
    assert seeded["customers"] == 305 and seeded["regions"] == 13
    with session_scope(db_url) as session:
        dept_kinds = set(session.scalars(
            select(Department.kind).join(Staff, Staff.department_id == Department.id)).all())
        types = set(session.scalars(select(Ticket.type)).all())
        statuses = set(session.scalars(select(Ticket.status)).all())
        supervised = session.scalar(select(func.count()).where(Staff.supervisor_id.is_not(None)))
    assert types == set(TicketType)
    assert TicketStatus.closed in statuses and TicketStatus.in_progress in statuses
    assert dept_kinds == set(DepartmentKind)
    assert supervised > 50
    again = run_cli(capsys, "demo", "seed")
    assert again.code == 0 and "already seeded" in again.out
    assert ticket_count(db_url) == 140


def test_create_prints_number_and_every_due_time(seeded, capsys):
    result = run_cli(capsys, *COMPLAINT, "--region", "320102",
                     "--received-at", "2026-11-24T15:00:00+08:00", "--json")
    assert result.code == 0, result.err
    ticket = result.json()
    assert ticket["number"] == "20261124" + ticket["number"][8:] and len(ticket["number"]) == 14
    assert ticket["due"] == {"contact": "2026-11-25T15:00:00+08:00",
                             "reply": "2026-11-30T15:00:00+08:00"}
    plain = run_cli(capsys, *COMPLAINT, "--region", "320102",
                    "--received-at", "2026-11-24T15:00:00+08:00")
    assert "处理答复" in plain.out and "2026-11-30T15:00:00+08:00" in plain.out
    assert int(plain.out.split()[1][8:]) == int(ticket["number"][8:]) + 1


def test_the_customer_is_told_the_number_and_the_promised_deadline_once(db_url, seeded, capsys):
    number = run_cli(capsys, *COMPLAINT, "--received-at", "2026-11-24T15:00:00+08:00",
                     "--json").json()["number"]
    for _ in range(2):  # the run starts, and re-runs from the top at every resume
        with session_scope(db_url) as session:
            ticket = get_ticket(session, number)
            acknowledge(session, ticket, lifecycles()[ticket.type], ticket.received_at)
    with session_scope(db_url) as session:
        sent = session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "customer_ack",
            OutboxMessage.ticket_id == get_ticket(session, number).id)).all()
        assert [(m.channel.value, m.recipient, m.body_text) for m in sent] == [
            ("sms", "13812345678", f"【国网95598】尊敬的客户，您反映的投诉事项已受理，工单号{number}，"
                                   "我们将于2026-11-30 15:00前给您答复。")]  # the reply, not the contact


def test_known_caller_is_recognised_by_phone_and_gets_their_area(db_url, seeded, capsys):
    with session_scope(db_url) as session:
        customer = session.scalars(
            select(Customer).join(Region).where(Customer.area_kind == "rural")).first()
        phone, region = customer.phone, customer.region.code
    result = run_cli(capsys, "ticket", "create", "--type", "fault_repair", "--phone", phone,
                     "--name", "来电人", "--address", "村口", "--content", "停电",
                     "--received-at", "2026-11-24T15:00:00+08:00", "--json")
    assert result.code == 0, result.err
    ticket = result.json()
    assert ticket["region"] == region and ticket["area_kind"] == "rural"
    assert ticket["due"]["arrive"] == "2026-11-24T16:30:00+08:00"


def test_show_prints_the_ticket_with_its_timeline(seeded, capsys):
    number = run_cli(capsys, *COMPLAINT, "--json").json()["number"]
    shown = run_cli(capsys, "ticket", "show", number, "--json").json()
    assert shown["content"] == "抄表员态度恶劣"
    assert shown["caller"]["phone"] == "13812345678"
    assert [e["kind"] for e in shown["timeline"]] == ["received"]
    plain = run_cli(capsys, "ticket", "show", number)
    assert "时间线" in plain.out and "受理投诉工单" in plain.out


@pytest.mark.parametrize("change, field", [
    (("--type", "complain"), "type"),
    (("--phone", "12345"), "phone"),
    (("--received-at", "2026-11-24T15:00:00"), "received_at"),
    (("--received-at", "yesterday"), "received_at"),
    (("--region", "9999"), "region"),
    (("--name", "  "), "name"),
])
def test_bad_input_exits_2_with_one_line_naming_the_field_and_writes_nothing(
        db_url, seeded, capsys, change, field):
    args = list(COMPLAINT)
    flag, value = change
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]
    before = ticket_count(db_url)
    result = run_cli(capsys, *args)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and f"字段 {field}" in lines[0] and f"field {field}" in lines[0]
    assert ticket_count(db_url) == before


def test_missing_option_is_refused(db_url, capsys):
    result = run_cli(capsys, "ticket", "create", "--type", "complaint")
    assert result.code == 2 and "--phone" in result.err


def test_unknown_ticket_exits_2(db_url, capsys):
    result = run_cli(capsys, "ticket", "show", "20990101000001")
    assert result.code == 2 and "工单不存在" in result.err


def test_rules_due_prints_each_clock(db_url, capsys):
    result = run_cli(capsys, "rules", "due", "--type", "fault_repair", "--area", "remote",
                     "--start", "2026-10-01T23:30:00+08:00", "--json")
    assert result.code == 0, result.err
    clocks = result.json()["clocks"]
    assert clocks["arrive"]["due_at"] == "2026-10-02T01:30:00+08:00"
    assert clocks["restore"]["due_at"] == "2026-10-02T05:30:00+08:00"
    assert clocks["restore"]["starts_after"] == "arrive"


def test_rules_due_refuses_a_bad_area(db_url, capsys):
    result = run_cli(capsys, "rules", "due", "--type", "complaint", "--area", "mars",
                     "--start", "2026-10-01T08:00:00+08:00")
    assert result.code == 2 and "field area" in result.err
    assert "可选：urban（城市）、rural（农村）、remote（偏远地区）" in result.err


def test_year_beyond_official_data_warns_until_its_schedule_is_loaded(db_url, capsys, tmp_path):
    args = ["rules", "due", "--type", "complaint", "--start", "2026-12-30T09:00:00+08:00", "--json"]
    before = run_cli(capsys, *args)
    assert before.json()["clocks"]["reply"]["due_at"] == "2027-01-05T09:00:00+08:00"
    assert "2027" in before.err and "warning" in before.err
    schedule = tmp_path / "2027.csv"
    schedule.write_text("date,working,note\n2027-01-01,休,元旦\n", encoding="utf-8")
    loaded = run_cli(capsys, "calendar", "load", str(schedule))
    assert loaded.code == 0, loaded.err
    after = run_cli(capsys, *args)
    assert after.json()["clocks"]["reply"]["due_at"] == "2027-01-06T09:00:00+08:00"
    assert after.err == ""


def test_bad_calendar_file_changes_nothing(db_url, capsys, tmp_path):
    schedule = tmp_path / "bad.csv"
    schedule.write_text("2027-01-01,休\n2027-13-01,休\n", encoding="utf-8")
    result = run_cli(capsys, "calendar", "load", str(schedule))
    assert result.code == 2 and "line 2" in result.err
    due = run_cli(capsys, "rules", "due", "--type", "complaint",
                  "--start", "2026-12-30T09:00:00+08:00", "--json")
    assert due.json()["clocks"]["reply"]["due_at"] == "2027-01-05T09:00:00+08:00"


def test_a_new_rule_version_changes_new_tickets_without_code(db_url, capsys, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: local-2026\neffective_from: 2026-06-01\nrules:\n"
        "  - {type: complaint, clock: reply, label: 处理答复, span: 7 working_days}\n",
        encoding="utf-8")
    assert run_cli(capsys, "rules", "load", str(rules)).code == 0
    due = run_cli(capsys, "rules", "due", "--type", "complaint",
                  "--start", "2026-11-24T15:00:00+08:00", "--json").json()
    assert due["rule_version"] == "local-2026"
    assert due["clocks"] == {"reply": {"label": "处理答复", "due_at": "2026-12-03T15:00:00+08:00",
                                       "starts_after": None}}


def test_create_with_an_unreachable_prefect_keeps_the_ticket_and_says_so(seeded, capsys):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from gridline.local_postgres import free_port

    with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api"}):
        result = run_cli(capsys, *COMPLAINT)
    assert result.code == 1 and "已保存" in result.err and "not started" in result.err
    number = result.err.split("工单 ")[1].split()[0]
    assert run_cli(capsys, "ticket", "show", number, "--json").json()["flow_run_id"] is None
