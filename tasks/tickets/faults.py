"""Known faults: the intake page's list and the fault lifecycle's check, both by the one rule in
models/tickets/faults.py; a linked ticket's clocks met when the ticket it is linked to closes."""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from models.tickets.faults import known_fault
from models.tickets.ticket import Event, Ticket
from tasks.core.settings import get_settings


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


def meet_linked(session: Session, master: Ticket, now: datetime, actor: str) -> None:
    """The master closes: each ticket linked to it has its clocks met when the master's same
    clock was (never before it was received), else now."""
    met = {c.clock: c.met_at for c in master.clocks if c.met_at is not None}
    for linked in session.scalars(select(Ticket).where(Ticket.linked_to_id == master.id)):
        open_clocks = [c for c in linked.clocks if c.met_at is None]
        for clock in open_clocks:
            clock.met_at = max(met.get(clock.clock, now), linked.received_at)
        if open_clocks:
            session.add(Event(ticket_id=linked.id, at=now, kind="linked_met", actor=actor,
                              message=f"关联的故障工单{master.number}已办结，本单期限随之完成",
                              detail={"master": master.number}))
