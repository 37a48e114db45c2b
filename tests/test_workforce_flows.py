"""The workforce flows on a real (temporary) Prefect server: nightly planning and shift handover."""

from datetime import date

import pendulum
import pytest
from sqlalchemy import func, select

from bench.callgen import generate, write_csv
from models.org.organisation import Staff
from models.tickets.ticket import Step, Ticket
from models.workforce.tables import RosterShift, StaffingPlan
from tasks.core.db import session_scope
from tests.cli import run_cli


def local(text: str):
    return pendulum.parse(text, tz="Asia/Shanghai").in_timezone("UTC")


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
def test_nightly_plan_and_handover_flows(db_url, prefect_harness, tmp_path, capsys):
    from flows.workforce import shift_handover, workforce_nightly

    history = generate(1, date(2026, 10, 26), date(2026, 11, 22), scale=0.1, seed=3)
    path = tmp_path / "calls.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        write_csv(history, handle)
    assert run_cli(capsys, "calls", "import", str(path)).code == 0
    # The organisation without the demo's tickets: only the step made here is handed over.
    assert run_cli(capsys, "demo", "seed", "--tickets", "0").code == 0
    assert run_cli(capsys, "ticket", "create", "--no-start", "--type", "complaint",
                   "--phone", "13812345678", "--name", "张三", "--address", "南京市玄武区中山路1号",
                   "--content", "抄表员态度恶劣", "--region", "320102").code == 0

    result = workforce_nightly(days=2, alert_hours=24, at="2026-11-23T22:30:00+08:00")
    assert result["intervals_planned"] == 2 * 48
    with session_scope(db_url) as session:
        first = session.scalar(select(func.min(StaffingPlan.interval_start)))
        staff = {s.code: s.id for s in session.scalars(select(Staff))}
        ticket = session.scalars(select(Ticket).order_by(Ticket.id)).first()
        session.add(RosterShift(staff_id=staff["S0100"], shift="A", start_at=local("2026-11-24 07:00"),
                                end_at=local("2026-11-24 15:00")))
        session.add(RosterShift(staff_id=staff["S0101"], shift="P", start_at=local("2026-11-24 15:00"),
                                end_at=local("2026-11-24 23:00")))
        step = Step(ticket_id=ticket.id, step_key="review", attempt=9, assignee_id=staff["S0100"],
                    opened_at=local("2026-11-24 08:00"), due_at=local("2026-11-24 20:00"))
        session.add(step)
        session.flush()
        step_id = step.id
    assert first == local("2026-11-24 00:00")

    handed = shift_handover(at="2026-11-24T15:01:00+08:00")
    assert handed["items"] == 1 and handed["receivers"] == 1
    with session_scope(db_url) as session:
        assert session.get(Step, step_id).assignee_id == staff["S0101"]
