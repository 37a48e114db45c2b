"""The deadline audit against real databases: window edges, holidays, repeats, escalation, no
duplicates across re-runs or a crash, workbooks that reopen, and the marketing system's export."""

import csv
from datetime import datetime

import pendulum
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from models import Department, OutboxMessage, Staff, Step, Ticket
from models.core.enums import StaffRole, StepStatus
from tasks.audit import chase as audit_tasks
from tasks.audit.chase import audit_due, check_clock, database_now
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tests.cli import run_cli

RECEIVED = "2026-11-24T15:00:00+08:00"  # a Tuesday: contact due Wed 15:00, reply due Mon 30 15:00


@pytest.fixture
def centre(db_url, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDLINE_AUDIT_DIR", str(tmp_path / "audit"))
    assert run_cli(capsys, "demo", "seed").code == 0
    with session_scope(db_url) as session:  # a clean slate: only the tickets each test makes
        for ticket in session.scalars(select(Ticket)):
            for clock in ticket.clocks:
                clock.next_check_at = None
    return db_url


def complaint(capsys, db_url, received=RECEIVED, handled_by="D320102-marketing") -> tuple[str, Staff]:
    """A complaint whose open step sits with a department: its head answers for the deadline."""
    number = run_cli(capsys, "ticket", "create", "--type", "complaint", "--phone", "13812345678",
                     "--name", "张三", "--address", "南京市玄武区中山路1号",
                     "--content", "抄表员态度恶劣", "--region", "320102",
                     "--received-at", received, "--json").json()["number"]
    with session_scope(db_url) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        department = session.scalar(select(Department).where(Department.code == handled_by))
        session.add(Step(ticket=ticket, step_key="handle", department=department,
                         status=StepStatus.open, opened_at=ticket.received_at))
        head = session.scalar(select(Staff).where(Staff.department_id == department.id,
                                                  Staff.role == StaffRole.head))
        session.expunge(head)
    return number, head


def audit(capsys, at: str) -> dict:
    result = run_cli(capsys, "audit", "run", "--now", at, "--json")
    assert result.code == 0, result.err
    return result.json()


def messages(db_url, **where) -> list[OutboxMessage]:
    with session_scope(db_url) as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(session.scalars(query))


def test_about_to_expire_starts_exactly_at_the_window_edge(centre, capsys):
    number, head = complaint(capsys, centre)
    # contact is due Wed 15:00 with a 4-hour window
    assert audit(capsys, "2026-11-25T10:59:00+08:00")["about_to_expire"] == 0
    found = audit(capsys, "2026-11-25T11:00:00+08:00")
    assert (found["about_to_expire"], found["overdue"]) == (1, 0)
    [sms] = messages(centre, channel="sms")
    assert sms.recipient == head.phone and sms.template == "about_to_expire"
    assert f"工单号为{number}" in sms.body_text and "处理期限2026-11-25 15:00" in sms.body_text
    assert "剩余4小时" in sms.body_text
    [mail] = messages(centre, channel="email")
    assert mail.recipient == head.email and number in mail.subject


def test_overdue_reminder_says_when_it_expired_and_repeats_once_a_day(centre, capsys):
    number, head = complaint(capsys, centre)
    assert audit(capsys, "2026-11-25T15:00:00+08:00")["overdue"] == 1
    assert audit(capsys, "2026-11-25T20:00:00+08:00")["checked"] == 0  # nothing due before 24 h
    overdue = [m for m in messages(centre, channel="sms") if m.template == "overdue"]
    assert len(overdue) == 1
    assert overdue[0].body_text.startswith(f"【工单已超期】工单号为{number}，工单内容：抄表员态度恶劣，"
                                           "已于2026-11-25 15:00超时")
    audit(capsys, "2026-11-26T15:00:00+08:00")
    overdue = [m for m in messages(centre, channel="sms") if m.template == "overdue"]
    assert len(overdue) == 2 and "已超期1天" in overdue[1].body_text


def test_escalation_reaches_the_supervisor_then_the_duty_manager(centre, capsys):
    number, head = complaint(capsys, centre)
    with session_scope(centre) as session:
        boss = session.get(Staff, head.supervisor_id)
        duty = session.scalars(select(Staff).where(Staff.role == StaffRole.supervisor)).all()
        boss_phone, duty_phones = boss.phone, {s.phone for s in duty}
    audit(capsys, "2026-11-25T16:00:00+08:00")
    assert not [m for m in messages(centre, template="escalation")]
    audit(capsys, "2026-11-26T15:00:00+08:00")  # 24 h over: the supervisor
    assert {m.recipient for m in messages(centre, template="escalation", channel="sms")} == {boss_phone}
    audit(capsys, "2026-11-28T15:00:00+08:00")  # 72 h over: the centre's duty manager too
    assert {m.recipient for m in messages(centre, template="escalation", channel="sms")} == \
        {boss_phone} | duty_phones


def test_deadline_after_a_holiday_is_chased_by_its_working_day_due_time(centre, capsys):
    complaint(capsys, centre, received="2026-09-30T15:00:00+08:00")  # reply due 2026-10-12 15:00
    reply_window = "2026-10-11T15:00:00+08:00"
    audit(capsys, "2026-10-11T14:59:00+08:00")
    before = [m for m in messages(centre, channel="sms") if "2026-10-12 15:00" in m.body_text]
    assert before == []
    audit(capsys, reply_window)
    after = [m for m in messages(centre, channel="sms") if "2026-10-12 15:00" in m.body_text]
    assert [m.template for m in after] == ["about_to_expire"]


def test_a_rerun_queues_nothing_twice_and_rewrites_the_same_workbook_rows(centre, capsys):
    number, _ = complaint(capsys, centre)
    first = audit(capsys, "2026-11-25T15:30:00+08:00")
    count = len(messages(centre))
    with session_scope(centre) as session:  # as if the audit's schedule were lost
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        for clock in ticket.clocks:
            clock.next_check_at = clock.due_at.replace(year=2000)
    second = audit(capsys, "2026-11-25T15:30:00+08:00")
    assert second["queued"] == 0 and len(messages(centre)) == count
    book = load_workbook(first["workbooks"]["overdue"])
    assert book.sheetnames == ["明细", "部门汇总"]
    assert book["明细"].max_row == 2  # header + the one overdue clock, not two


def test_a_crash_mid_audit_loses_nothing_and_doubles_nothing(centre, capsys, monkeypatch):
    for _ in range(5):
        complaint(capsys, centre)
    settings = get_settings()
    real = audit_tasks.audit_clocks
    calls = {"n": 0}

    def crash_on_second_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(audit_tasks, "audit_clocks", crash_on_second_batch)
    at = pendulum.parse("2026-11-25T15:30:00+08:00")
    with pytest.raises(RuntimeError):
        audit_due(now=at, policy=settings.audit, timezone=settings.timezone, batch_size=2)
    monkeypatch.setattr(audit_tasks, "audit_clocks", real)
    audit_due(now=at, policy=settings.audit, timezone=settings.timezone, batch_size=2)
    overdue = [m for m in messages(centre, channel="sms") if m.template == "overdue"]
    assert len(overdue) == 5 and len({m.ticket_id for m in overdue}) == 5


def test_workbook_has_chinese_headers_real_datetimes_filters_and_a_chart(centre, capsys):
    number, head = complaint(capsys, centre)
    report = audit(capsys, "2026-11-25T16:00:00+08:00")
    book = load_workbook(report["workbooks"]["overdue"])
    sheet = book["明细"]
    headers = [c.value for c in sheet[1]]
    assert headers[:6] == ["序号", "工单号", "工单类型", "期限类别", "工单内容", "处理期限"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    row = [c.value for c in sheet[2]]
    assert (row[1], row[3], row[7]) == (number, "联系客户", head.name)
    assert isinstance(row[5], datetime) and row[5] == datetime(2026, 11, 25, 15, 0)
    summary = book["部门汇总"]
    assert [c.value for c in summary[1]] == ["责任部门", "工单数"]
    assert summary["B2"].value == 1 and len(summary._charts) == 1


def test_workbook_reopens_in_libreoffice(centre, capsys, tmp_path):
    import shutil
    import subprocess

    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice is not installed (dev.sh installs libreoffice-calc-nogui)")
    complaint(capsys, centre)
    path = audit(capsys, "2026-11-25T16:00:00+08:00")["workbooks"]["overdue"]
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",  # 76: UTF-8
                    "--outdir", str(tmp_path), path],
                   check=True, capture_output=True, timeout=120)
    [converted] = tmp_path.glob("*.csv")
    rows = list(csv.reader(converted.open(encoding="utf-8")))
    assert rows[0][:2] == ["序号", "工单号"] and rows[1][5] == "2026-11-25 15:00"


def test_workbook_prints_landscape_with_every_column_on_the_first_page(centre, capsys, tmp_path):
    import shutil
    import subprocess

    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None or shutil.which("pdfinfo") is None:
        pytest.skip("LibreOffice and poppler-utils are not installed (dev.sh installs them)")
    complaint(capsys, centre)
    path = audit(capsys, "2026-11-25T16:00:00+08:00")["workbooks"]["overdue"]
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), path],
                   check=True, capture_output=True, timeout=120)
    [pdf] = tmp_path.glob("*.pdf")
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", str(pdf)], check=True,
                          capture_output=True, text=True).stdout
    sizes = [line.split("size:")[1].split("pts")[0].split(" x ")
             for line in info.splitlines() if line.startswith("Page") and "size:" in line]
    assert len(sizes) == 2  # the detail sheet and the summary, one page each
    assert all(float(width) > float(height) for width, height in sizes)  # landscape
    first_page = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], check=True,
                                capture_output=True, text=True).stdout
    assert "序号" in first_page and "最近检查时间" in first_page  # first and last column


def test_workbook_chart_shows_its_axes_and_the_counts(centre, capsys):
    complaint(capsys, centre)
    report = audit(capsys, "2026-11-25T16:00:00+08:00")
    [chart] = load_workbook(report["workbooks"]["overdue"])["部门汇总"]._charts
    sheet = load_workbook(report["workbooks"]["overdue"])["明细"]
    assert sheet.print_title_rows == "$1:$1" and sheet.page_setup.orientation == "landscape"
    assert chart.x_axis.delete is False and chart.y_axis.delete is False
    assert chart.dataLabels.showVal is True


def test_clock_skew_is_reported_to_admins_and_the_database_time_is_used(centre):
    settings = get_settings()
    with session_scope(centre) as session:
        db_now = database_now(session)
        check = check_clock(session, machine_now=db_now.replace(year=db_now.year + 1),
                            policy=settings.audit, timezone=settings.timezone)
        admins = {s.phone for s in session.scalars(select(Staff).where(Staff.role == StaffRole.admin))}
    assert not check.trusted_machine and abs((check.audit_time - db_now).total_seconds()) < 5
    alerts = messages(centre, template="clock_skew", channel="sms")
    assert {m.recipient for m in alerts} == admins and "数据库时间" in alerts[0].body_text


# --- the marketing system's export ---------------------------------------------------------------

HEADERS = ["工单编号", "业务类型", "工单内容", "受理时间", "处理期限", "工单状态", "责任人", "责任人电话"]


def export_xlsx(path, rows):
    book = Workbook()
    book.active.append(HEADERS)
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_import_lands_good_rows_and_reports_bad_ones_by_row_number(centre, capsys, tmp_path):
    path = export_xlsx(tmp_path / "export.xlsx", [
        ["Y001", "投诉", "电压不稳", datetime(2026, 11, 20, 10), datetime(2026, 11, 24, 10), "未处理",
         "王工", "13912345678"],
        ["Y002", "抢修单", "停电", "2026-11-20 10:00", "2026-11-24 10:00", "未处理", "王工", "13912345678"],
        ["Y003", "举报", "窃电", "2026-11-20 10:00", "下周一", "未处理", "王工", "13912345678"],
        [None, "咨询", "电价", "2026-11-20 10:00", "2026-11-24 10:00", "未处理", "王工", "13912345678"],
        ["Y005", "用电业务", "新装", "2026/11/20 10:00", "2026/11/27 10:00", "处理中", "李工", ""],
    ])
    result = run_cli(capsys, "import", "tickets", str(path), "--json")
    assert result.code == 1
    report = result.json()
    assert (report["created"], report["updated"]) == (2, 0)
    assert {e["row"]: e["reason"].split()[0] for e in report["errors"]} == {
        3: "未知的业务类型", 4: "处理期限时间无效", 5: "缺少工单编号"}
    shown = run_cli(capsys, "ticket", "show", "Y001", "--json").json()
    assert shown["due"] == {"deadline": "2026-11-24T10:00:00+08:00"}


def test_second_import_updates_status_and_deadline(centre, capsys, tmp_path):
    first = tmp_path / "first.csv"
    first.write_text(",".join(HEADERS)
                     + "\nY100,投诉,电压不稳,2026-11-20 10:00,2026-11-24 10:00,未处理,王工,13912345678\n",
                     encoding="gb18030")  # the marketing system's usual GBK export
    assert run_cli(capsys, "import", "tickets", str(first)).code == 0
    second = tmp_path / "second.csv"
    second.write_text(",".join(HEADERS)
                      + "\nY100,投诉,电压不稳,2026-11-20 10:00,2026-11-26 10:00,已办结,王工,13912345678\n",
                      encoding="utf-8")
    report = run_cli(capsys, "import", "tickets", str(second), "--json").json()
    assert (report["created"], report["updated"]) == (0, 1)
    shown = run_cli(capsys, "ticket", "show", "Y100", "--json").json()
    assert shown["status"] == "closed" and shown["due"]["deadline"] == "2026-11-26T10:00:00+08:00"
    assert [e["kind"] for e in shown["timeline"]] == ["imported", "import-updated"]


def test_imported_tickets_are_audited_like_our_own(centre, capsys, tmp_path):
    path = export_xlsx(tmp_path / "export.xlsx", [
        ["Y200", "投诉", "电压不稳", "2026-11-20 10:00", "2026-11-24 10:00", "未处理", "王工", "139-1234-5678"]])
    assert run_cli(capsys, "import", "tickets", str(path)).code == 0
    audit(capsys, "2026-11-24T11:00:00+08:00")
    [sms] = messages(centre, channel="sms", template="overdue")
    assert sms.recipient == "13912345678"
    assert sms.body_text.startswith("【工单已超期】工单号为Y200，工单内容：电压不稳，已于2026-11-24 10:00超时")


def test_the_newest_export_dropped_in_the_folder_is_picked_up_once(centre, tmp_path, monkeypatch):
    from flows.marketing_sync import import_newest_export

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    monkeypatch.setenv("GRIDLINE_IMPORT_DIR", str(inbox))
    older = export_xlsx(inbox / "old.xlsx", [
        ["Y300", "投诉", "旧导出", "2026-11-20 10:00", "2026-11-24 10:00", "未处理", "王工", ""]])
    export_xlsx(inbox / "new.xlsx", [
        ["Y301", "投诉", "新导出", "2026-11-20 10:00", "2026-11-24 10:00", "未处理", "王工", ""]])
    import os
    os.utime(older, (1, 1))
    result = import_newest_export.fn()
    assert result["file"] == "new.xlsx" and result["created"] == 1
    assert sorted(p.name for p in inbox.glob("*.xlsx")) == []  # both moved to processed/
    assert len(list((inbox / "processed").glob("*.xlsx"))) == 2
    assert import_newest_export.fn() == {"file": None}
    with session_scope(centre) as session:
        numbers = set(session.scalars(select(Ticket.number).where(Ticket.source == "marketing")))
    assert numbers == {"Y301"}
