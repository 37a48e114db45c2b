"""Known faults: the intake page's list and the fault lifecycle's check, both by the one rule in
models/tickets/faults.py, after the outage register (an outage in effect in the area comes
first); a linked ticket's clocks met when the ticket it is linked to closes."""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from models.core.enums import TicketStatus
from models.outages.outage import Outage, OutageStatus
from models.tickets.faults import RESTORE, known_fault
from models.tickets.ticket import Event, Ticket
from tasks.core.settings import get_settings
from tasks.outages.register import outages_in_effect, restore
from tasks.tickets.links import members_of


def fault_window() -> timedelta:
    return timedelta(minutes=get_settings().known_fault_window_minutes)


def known_faults(session: Session, region_id: int, at: datetime, *, limit: int,
                 also: tuple[ColumnElement[bool], ...] = ()) -> list[Ticket]:
    """The known faults of an area at `at`, newest first (`also`: the reader's scope, ...)."""
    return list(session.scalars(
        select(Ticket).where(*known_fault(region_id, at, fault_window()), *also)
        .order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(limit)))


def find_known_fault(session: Session, ticket: Ticket) -> Ticket | None:
    """The known fault a new fault ticket is linked to: the newest of its area at its receipt."""
    found = known_faults(session, ticket.region_id, ticket.received_at, limit=1,
                         also=(Ticket.id != ticket.id,))
    return found[0] if found else None


def find_known(session: Session, ticket: Ticket) -> tuple[Outage | None, Ticket | None]:
    """What a new fault call is already known by: the outage in effect in its area at its
    receipt, else the known fault ticket of its area; (None, None) when nothing is."""
    outages = outages_in_effect(session, ticket.region_id, ticket.received_at, limit=1)
    if outages:
        return outages[0], None
    return None, find_known_fault(session, ticket)


def meet_linked(session: Session, master: Ticket, now: datetime, actor: str) -> None:
    """The master closes: the outage opened from it is restored, and each member that closed
    waiting on it (a fault call linked at intake) has its clocks met when the master's same clock
    was (never before it was received), else now. An open member keeps its own deadlines."""
    met = {c.clock: c.met_at for c in master.clocks if c.met_at is not None}
    for outage in session.scalars(select(Outage).where(Outage.source_ticket_id == master.id,
                                                       Outage.status == OutageStatus.active)):
        restore(session, outage, at=met.get(RESTORE, now), by=actor, now=now)
    for linked in members_of(session, master.id):
        if linked.status != TicketStatus.closed:
            continue
        open_clocks = [c for c in linked.clocks if c.met_at is None]
        for clock in open_clocks:
            clock.met_at = max(met.get(clock.clock, now), linked.received_at)
        if open_clocks:
            session.add(Event(ticket_id=linked.id, at=now, kind="linked_met", actor=actor,
                              message=f"关联的故障工单{master.number}已办结，本单期限随之完成",
                              detail={"master": master.number}))
