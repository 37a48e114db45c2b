"""What the portal reads of tickets: a department's inbox, a ticket's page, a step to act on, and
the caller's context at intake. Each takes the reader's Scope and returns nothing outside it."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from models.core.enums import OPEN_STATUSES, StepStatus, TicketType
from models.org.customer import Customer
from models.org.organisation import Region, Staff
from models.outages.outage import Outage
from models.tickets.ticket import Step, Ticket, TicketClock
from tasks.core.paging import Listing
from tasks.org.scope import Scope
from tasks.outages.register import outages_ahead, outages_in_effect
from tasks.tickets.faults import known_faults
from tasks.tickets.store import find_customer_by_phone


def inbox(session: Session, department_id: int, *, status: StepStatus,
          ticket_type: TicketType | None, offset: int, limit: int) -> Listing:
    """The department's steps in `status`, soonest due first. Plain rows, not ORM objects: the
    inbox is the page everyone keeps open."""
    mine = [Step.department_id == department_id, Step.status == status,
            Step.ticket_id.is_not(None)]  # a case's steps are listed apart (case_inbox)
    # The warning window of the clock the step runs against (due when it is): one colour for
    # the step and its clock.
    warn = (select(func.min(TicketClock.warn_minutes))
            .where(TicketClock.ticket_id == Step.ticket_id, TicketClock.due_at == Step.due_at,
                   TicketClock.met_at.is_(None)).correlate(Step).scalar_subquery())
    query = (select(Step.id, Step.step_key, Step.status, Step.due_at, Step.attempt,
                    warn.label("warn_minutes"), Staff.name.label("assignee"), Ticket.number,
                    Ticket.type, Ticket.content)
             .join(Ticket, Step.ticket_id == Ticket.id)
             .outerjoin(Staff, Step.assignee_id == Staff.id).where(*mine))
    counted = select(func.count()).select_from(Step).where(*mine)  # the index alone
    if ticket_type:
        query = query.where(Ticket.type == ticket_type)
        counted = counted.join(Ticket, Step.ticket_id == Ticket.id).where(
            Ticket.type == ticket_type)
    rows = session.execute(query.order_by(Step.due_at.asc().nulls_last(), Step.id)
                           .limit(limit).offset(offset)).all()
    return Listing(rows, session.scalar(counted))


def ticket_page(session: Session, scope: Scope, number: str) -> Ticket | None:
    """The ticket with everything its page shows: region, customer, clocks, steps, timeline."""
    return session.scalars(
        select(Ticket).where(Ticket.number == number, scope.sees_ticket())
        .options(joinedload(Ticket.region), joinedload(Ticket.customer),
                 selectinload(Ticket.clocks), selectinload(Ticket.events),
                 selectinload(Ticket.steps).options(joinedload(Step.department),
                                                    joinedload(Step.completed_by)))
    ).first()


def visible_step(session: Session, scope: Scope, step_id: int) -> Step | None:
    """A step of a ticket the reader may see (acting on it is a question of its department)."""
    return session.scalars(select(Step).join(Ticket, Step.ticket_id == Ticket.id)
                           .where(Step.id == step_id, scope.sees_ticket())).first()


@dataclass
class StepContext:
    """What the person at a step must know to decide: what the earlier steps said (oldest
    first), the one just before this one (a department's reply, a review's opinion, a return's
    reason), and, when the step is handled again, that it came back."""

    earlier: list[Step]
    previous: Step | None
    again: bool


def step_context(step: Step) -> StepContext:
    earlier = sorted((s for s in step.ticket.steps
                      if s.id != step.id and s.status != StepStatus.open and s.completed_at),
                     key=lambda s: (s.completed_at, s.id))
    return StepContext(earlier, earlier[-1] if earlier else None, step.attempt > 1)


@dataclass
class Caller:
    """What intake knows of a calling number: the customer, their open tickets, known faults,
    the outages of their area."""

    customer: Customer | None = None
    open_tickets: list[Ticket] = field(default_factory=list)
    faults: list[Ticket] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)
    outages_ahead: list[Outage] = field(default_factory=list)  # planned, still to start


def caller(session: Session, scope: Scope, phone: str, limit: int, now: datetime) -> Caller:
    """The customer of a (normalised) number in the reader's regions (one elsewhere is not found,
    as an unknown number), the open tickets of that number or customer the reader may see, and
    the outages and known faults of the customer's area now (the rule the fault lifecycle links
    by: tasks/tickets/faults.find_known), and the planned outages still to come there."""
    customer = find_customer_by_phone(session, phone, scope.region_ids)
    same_caller = Ticket.caller_phone == phone
    if customer:
        same_caller = or_(same_caller, Ticket.customer_id == customer.id)
    newest = Ticket.received_at.desc()
    open_tickets = session.scalars(
        select(Ticket).where(same_caller, Ticket.status.in_(OPEN_STATUSES), scope.sees_ticket())
        .order_by(newest).limit(limit)).all()
    if customer is None:
        return Caller(None, list(open_tickets))
    return Caller(customer, list(open_tickets),
                  known_faults(session, customer.region_id, now, limit=limit,
                               also=(scope.sees_ticket(),)),
                  outages_in_effect(session, customer.region_id, now, limit=limit),
                  outages_ahead(session, customer.region_id, now, limit=limit))


def regions_in_scope(session: Session, scope: Scope) -> list[Region]:
    return list(session.scalars(select(Region).where(Region.id.in_(scope.region_ids))
                                .order_by(Region.code)))
