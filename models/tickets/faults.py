"""The one rule of a known fault: what the intake page lists as 已知故障 and what the fault
lifecycle's check links a new ticket to, so the agent and the system always agree."""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists

from models.core.enums import OPEN_STATUSES, TicketType
from models.tickets.ticket import Ticket, TicketClock

RESTORE = "restore"  # the clock whose meeting says power is back


def known_fault(region_id: int, at: datetime, window: timedelta) -> list[ColumnElement[bool]]:
    """A fault ticket of the same area (region), still open, received within `window` before
    `at`, whose power is not yet restored, and itself the first of its fault (not linked)."""
    restored = exists().where(TicketClock.ticket_id == Ticket.id, TicketClock.clock == RESTORE,
                              TicketClock.met_at.is_not(None))
    return [Ticket.type == TicketType.fault_repair, Ticket.region_id == region_id,
            Ticket.status.in_(OPEN_STATUSES), Ticket.linked_to_id.is_(None), ~restored,
            Ticket.received_at <= at, Ticket.received_at >= at - window]
