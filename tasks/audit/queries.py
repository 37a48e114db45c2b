"""What supervision (督办) reads of the deadlines: the running clocks of the reader's tickets that the
audit would chase now, by its own assessment and each clock's own warning window."""

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from models.audit.assessment import AuditPolicy, AuditStage, assess
from models.core.enums import OPEN_STATUSES
from models.tickets.ticket import Ticket, TicketClock
from tasks.core.paging import Listing
from tasks.org.scope import Scope

# Plain rows: a centre can have thousands of clocks overdue, and the page shows a few fields.
COLUMNS = (TicketClock.label, TicketClock.due_at, TicketClock.warn_minutes, Ticket.number,
           Ticket.type, Ticket.content)


def deadlines_at_risk(session: Session, scope: Scope, *, now: datetime, policy: AuditPolicy,
                      limit: int) -> dict[AuditStage, Listing]:
    """Per stage (overdue, about to expire), the earliest due `limit` clocks and how many in all."""
    # The widest warning window bounds the query; assess() decides each clock.
    widest = session.scalar(select(func.max(TicketClock.warn_minutes))
                            .where(TicketClock.met_at.is_(None))) or 0
    rows = session.execute(
        select(*COLUMNS).join(Ticket, TicketClock.ticket_id == Ticket.id)
        .where(TicketClock.met_at.is_(None), Ticket.status.in_(OPEN_STATUSES),
               TicketClock.due_at <= now + timedelta(minutes=widest), scope.sees_ticket())
        .order_by(TicketClock.due_at, TicketClock.id))
    shown: dict[AuditStage, list[Row]] = {stage: [] for stage in AuditStage}
    totals = Counter()
    for row in rows:
        stage = assess(row.due_at, timedelta(minutes=row.warn_minutes), now, policy).stage
        if stage is not None:
            totals[stage] += 1
            if len(shown[stage]) < limit:
                shown[stage].append(row)
    return {stage: Listing(shown[stage], totals[stage]) for stage in AuditStage}
