"""The deadline audit and outbox delivery as Prefect flows on a real (temporary) Prefect server,
sending through a real SMTP server and SMS platform on loopback."""

import json

import pendulum
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from gridline.local_postgres import free_port
from gridline.sinks import Sinks
from models import Department, OutboxMessage, Staff, Step, Ticket
from models.core.enums import StaffRole, StepStatus
from models.messaging.outbox import OutboxStatus
from tasks.core.db import session_scope
from tests.cli import run_cli
from tests.mail import read_mail


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
def test_audit_flow_queues_reminders_and_delivery_flow_sends_them(
        db_url, prefect_harness, capsys, tmp_path, monkeypatch):
    from flows.audit import deadline_audit
    from flows.deliver import deliver_outbox

    smtp_port, sms_port = free_port(), free_port()
    monkeypatch.setenv("GRIDLINE_SMTP__PORT", str(smtp_port))
    monkeypatch.setenv("GRIDLINE_SMS__URL", f"http://127.0.0.1:{sms_port}/sms")
    monkeypatch.setenv("GRIDLINE_AUDIT_DIR", str(tmp_path / "audit"))
    # The demo's organisation without its tickets: only the ticket made here is chased.
    assert run_cli(capsys, "demo", "seed", "--tickets", "0").code == 0
    created = run_cli(capsys, "ticket", "create", "--no-start", "--type", "complaint",
                      "--phone", "13812345678", "--name", "张三", "--address", "南京市玄武区中山路1号",
                      "--content", "抄表员态度恶劣", "--region", "320102",
                      "--received-at", pendulum.now("UTC").subtract(hours=30).isoformat(), "--json")
    assert created.code == 0, created.err
    number = created.json()["number"]
    with session_scope(db_url) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        department = session.scalar(select(Department).where(Department.code == "D320102-marketing"))
        session.add(Step(ticket=ticket, step_key="handle", department=department,
                         status=StepStatus.open, opened_at=ticket.received_at))
        head = session.scalar(select(Staff).where(Staff.department_id == department.id,
                                                  Staff.role == StaffRole.head))
        head_phone, head_email = head.phone, head.email

    report = deadline_audit()  # by the real clock, checked against the database's
    # contact (24 h) is 6 h overdue; reply (4 working days) is still days away
    assert report["overdue"] == 1 and report["queued"] == 2
    assert load_workbook(report["workbooks"]["overdue"])["明细"].cell(2, 2).value == number

    sinks = Sinks(tmp_path / "sinks", smtp_port, sms_port).start()
    try:
        assert deliver_outbox() == {"sent": 2}
        [mail] = read_mail(sinks.mail_dir)
        [sms] = [json.loads(line) for line in sinks.sms_log.read_text(encoding="utf-8").splitlines()]
    finally:
        sinks.stop()
    assert mail["To"] == head_email and number in mail["Subject"]
    assert json.loads(sms["body"])["to"] == head_phone
    assert f"工单号为{number}" in json.loads(sms["body"])["text"]
    with session_scope(db_url) as session:
        assert {m.status for m in session.scalars(select(OutboxMessage))} == {OutboxStatus.sent}
