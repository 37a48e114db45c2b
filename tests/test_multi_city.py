"""Who is told is found from the ticket's own unit upward: a Suzhou ticket's supervisor notice
reaches the Suzhou supervisor, a Nanjing ticket's the Nanjing one, and the audit's duty managers
are the ticket's own centre's (SQLite and PostgreSQL)."""

import pendulum
from sqlalchemy import select

from models.core.enums import StepStatus
from models.messaging.outbox import OutboxMessage
from models.org.organisation import Department
from models.tickets.lifecycle import Notice
from models.tickets.ticket import Step, Ticket
from tasks.audit.chase import Responsibility
from tasks.core.db import session_scope
from tasks.messaging.notify import notify
from tests.cli import run_cli
from tests.org_files import write_xlsx


def a_ticket(capsys, region: str, phone: str) -> str:
    result = run_cli(capsys, "ticket", "create", "--type", "complaint", "--phone", phone,
                     "--name", "张三", "--address", "某路1号", "--content", "停电未通知",
                     "--region", region, "--no-start", "--json")
    assert result.code == 0, result.err
    return result.json()["number"]


def supervisor_told(url: str, number: str, centre: str) -> list[str]:
    """A step of the ticket's centre with nobody assigned; its supervisor notice, queued."""
    now = pendulum.now("UTC")
    with session_scope(url) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        department = session.scalar(select(Department).where(Department.code == centre))
        step = Step(ticket_id=ticket.id, step_key="review", attempt=1, form="review",
                    department_id=department.id, status=StepStatus.open, opened_at=now)
        session.add(step)
        session.flush()
        notify(session, ticket, step, [Notice(to="supervisor", template="reopen_escalation")],
               "entry", now)
        return list(session.scalars(select(OutboxMessage.recipient).where(
            OutboxMessage.step_id == step.id)))


def test_a_suzhou_tickets_supervisor_notice_reaches_the_suzhou_supervisor(db_url, tmp_path,
                                                                          capsys):
    assert run_cli(capsys, "org", "import", str(write_xlsx(tmp_path / "org.xlsx"))).code == 0
    suzhou = a_ticket(capsys, "320581", "13612345678")
    nanjing = a_ticket(capsys, "320102", "13612345679")
    assert supervisor_told(db_url, suzhou, "SZ-CC") == ["13900000001"]  # 陈值班, Suzhou
    assert supervisor_told(db_url, nanjing, "NJ-CC") == ["13800000001"]  # 王值班, Nanjing
    with session_scope(db_url) as session:
        who = Responsibility(session)
        region_of = dict(session.execute(select(Ticket.number, Ticket.region_id)).all())
        assert [p.name for p in who.duty(region_of[suzhou])] == ["陈值班"]
        assert [p.name for p in who.duty(region_of[nanjing])] == ["王值班"]
