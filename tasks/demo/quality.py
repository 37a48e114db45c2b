"""The demo's quality inspection: the monthly plan's last whole period drawn as the schedule
would, and the first two inspections scored (one pass, one fail pre-published), so the queues,
an agent's appeal and the month's table all have something to show. The fail opens its
质检结果申诉 case; its run starts after the seed, with Prefect there (gridline/cli/demo.py)."""

from datetime import datetime

import pendulum
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.errors import InputError
from models.org.organisation import Staff
from models.quality.lifecycle import ResultStatus
from models.quality.tables import Inspection
from models.tickets.calendar import WorkCalendar
from models.tickets.ticket import Ticket, TicketClock
from tasks.quality.case_opening import open_result_case
from tasks.quality.files import plans
from tasks.quality.indicator_appeals import file_appeal
from tasks.quality.results import score_inspection
from tasks.quality.sampling import draw_due

SEED = 95598  # the demo's draw is the same every time


def demo_inspections(session: Session, now: datetime,
                     calendar: WorkCalendar, inspectors: list[Staff]) -> int:
    """How many inspections were dealt (none when no demo ticket closed last period)."""
    session.flush()
    today = pendulum.instance(now).in_timezone(calendar.timezone).date()
    drawn = draw_due(session, plans(), today, now=now, timezone=calendar.timezone, seed=SEED)
    dealt = session.scalars(select(Inspection).order_by(Inspection.id)).all()
    by_id = {s.id: s for s in inspectors}
    for inspection, passed in zip(dealt, (True, False), strict=False):
        answers = {"greeting": True, "accuracy": passed, "classification": True,
                   "follow_up": passed, "no_leak": True}
        inspector = by_id[inspection.inspector_id]
        result = score_inspection(session, inspector, inspection, answers,
                                  "" if passed else "地址记录不全，答复未解释电价政策", now=now)
        if result.status == ResultStatus.prepublished:
            open_result_case(session, inspection, by=inspector, now=now)
    return sum(found.inspections for found in drawn.values())


def demo_indicator_appeal(session: Session, agent: Staff, now: datetime, timezone: str) -> int:
    """One 指标申诉 waiting on the centre's supervisors: the agent contests this month's on-time
    rate over the first demo ticket that missed a deadline. How many were filed (0 or 1)."""
    session.flush()
    month_start = pendulum.instance(now).in_timezone(timezone).start_of("month")
    late = session.scalar(
        select(Ticket.number).join(TicketClock)
        .where(Ticket.received_at >= month_start, TicketClock.due_at <= now,
               (TicketClock.met_at.is_(None)) | (TicketClock.met_at > TicketClock.due_at))
        .order_by(Ticket.received_at, Ticket.id).limit(1))
    if late is None:
        return 0
    try:
        file_appeal(session, agent, "on_time_rate", month_start.date(), late,
                    "客户来电要求改约上门时间，超期非我方原因", now=now, timezone=timezone)
    except InputError:  # the ticket does not count in the agent's unit: nothing to contest
        return 0
    return 1
