"""The scheduled reports as a Prefect flow on the hand-counted centre: each subscriber's mail holds
their own scope's figures only, the PDF prints Chinese, and a re-run replaces, never doubles."""

import subprocess

import pytest
from sqlalchemy import func, select, update

from models.messaging.outbox import OutboxMessage
from models.org.organisation import Staff
from models.statistics.reports import Span, covered
from tasks.core.db import session_scope
from tests.statistics_centre import DAY, build


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDLINE_VAR_DIR", str(tmp_path / "var"))
    with session_scope(db_url) as session:
        build(session)
        session.execute(update(Staff).values(email=Staff.code + "@example.cn"))


def test_the_periods_a_run_covers():
    from datetime import date
    run = date(2025, 10, 1)
    assert covered(Span.day, run) == (date(2025, 9, 30), date(2025, 9, 30))
    assert covered(Span.week, run) == (date(2025, 9, 22), date(2025, 9, 28))
    assert covered(Span.month, run) == (date(2025, 9, 1), date(2025, 9, 30))


@pytest.mark.parametrize("empty_db_url", ["sqlite", "postgresql"], indirect=True)
def test_daily_report_mails_each_scope_and_a_rerun_doubles_nothing(
        db_url, centre, prefect_harness, tmp_path):
    from flows.reports import statistics_report

    first = statistics_report(report="daily", day="2025-10-01")
    assert (first["period"], first["recipients"]) == (DAY.isoformat(), 3)
    again = statistics_report(report="daily", day="2025-10-01")
    assert sorted(again["files"]) == sorted(first["files"])
    folder = tmp_path / "var" / "reports" / "daily"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"日报-{unit}-2025-09-30.{ext}" for unit in ("江苏省", "苏州市-不含话务", "玄武区-不含话务")
        for ext in ("xlsx", "pdf"))
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 3
        mails = {m.recipient: m.body_text for m in session.scalars(select(OutboxMessage))}
    assert "工单量：5" in mails["P-ADM@example.cn"] and "接通率：75.0%" in mails["P-ADM@example.cn"]
    assert "工单量：1" in mails["B-SUP@example.cn"] and "接通率" not in mails["B-SUP@example.cn"]
    assert "南京" not in mails["B-SUP@example.cn"]
    text = subprocess.run(["pdftotext", str(folder / "日报-江苏省-2025-09-30.pdf"), "-"],
                          check=True, capture_output=True, text=True).stdout
    assert "日报 江苏省 2025-09-30" in text and "南京市" in text and "按时办结率" in text
