"""Searching tickets for another system (the API): by number, phone, status, type, unit and time
received, within the reader's Scope, newest first, a page at a time."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from models.core.enums import TicketStatus, TicketType
from models.tickets.ticket import Ticket
from tasks.core.paging import Listing
from tasks.org.scope import Scope, region_subtree
from tasks.tickets.store import find_region


@dataclass
class TicketFilter:
    number: str | None = None
    phone: str | None = None  # normalised
    status: TicketStatus | None = None
    type: TicketType | None = None
    unit: str | None = None  # a region code: that unit and every unit under it
    received_from: datetime | None = None
    received_to: datetime | None = None


def search_tickets(session: Session, scope: Scope, wanted: TicketFilter, *, offset: int,
                   limit: int) -> Listing:
    where = [scope.sees_ticket()]
    if wanted.number:
        where.append(Ticket.number == wanted.number)
    if wanted.phone:
        where.append(Ticket.caller_phone == wanted.phone)
    if wanted.status:
        where.append(Ticket.status == wanted.status)
    if wanted.type:
        where.append(Ticket.type == wanted.type)
    if wanted.unit:
        where.append(Ticket.region_id.in_(
            region_subtree(session, find_region(session, wanted.unit).id)))
    if wanted.received_from:
        where.append(Ticket.received_at >= wanted.received_from)
    if wanted.received_to:
        where.append(Ticket.received_at < wanted.received_to)
    rows = session.scalars(select(Ticket).where(*where).options(joinedload(Ticket.region))
                           .order_by(Ticket.received_at.desc(), Ticket.id.desc())
                           .offset(offset).limit(limit)).all()
    return Listing(list(rows), session.scalar(select(func.count()).select_from(Ticket)
                                              .where(*where)))
