"""Ticket search (工单查询): by number, phone, customer, unit, type, status, time received and
overdue, within the reader's scope, newest first; one query for the page, its export and the API."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, joinedload

from models.core.enums import OPEN_STATUSES, TicketStatus, TicketType
from models.org.customer import Customer
from models.org.organisation import Region
from models.tickets.ticket import Ticket, TicketClock
from tasks.core.paging import Listing
from tasks.org.scope import Scope, region_subtree


@dataclass(frozen=True)
class TicketQuery:
    """The search form, already parsed: every criterion optional, all of them must hold."""

    number: str = ""
    phone: str = ""  # digits anywhere in the caller's number
    customer: str = ""  # part of the caller's name, or the account number
    unit: str = ""  # a region code: that region and every region under it
    type: TicketType | None = None
    status: TicketStatus | None = None
    # local dates, both ends included; or instants (the API), from included, to excluded
    received_from: date | datetime | None = None
    received_to: date | datetime | None = None
    overdue: bool = False  # open, with a clock past due and not met


# The row the page and the export show: plain columns, plus the next running deadline.
NEXT_DUE = (select(func.min(TicketClock.due_at))
            .where(TicketClock.ticket_id == Ticket.id, TicketClock.met_at.is_(None))
            .correlate(Ticket).scalar_subquery())
NEXT_WARN = (select(TicketClock.warn_minutes)
             .where(TicketClock.ticket_id == Ticket.id, TicketClock.met_at.is_(None))
             .order_by(TicketClock.due_at).limit(1).correlate(Ticket).scalar_subquery())
COLUMNS = (Ticket.id, Ticket.number, Ticket.type, Ticket.status, Ticket.received_at,
           Ticket.caller_name, Ticket.caller_phone, Ticket.content, Region.name.label("unit"),
           NEXT_DUE.label("next_due"), NEXT_WARN.label("next_warn"))


def _local_start(day: date | datetime, timezone: str, *, next_day: bool = False) -> datetime:
    if isinstance(day, datetime):
        return day
    return datetime.combine(day + timedelta(days=int(next_day)), time.min, ZoneInfo(timezone))


def _filtered(query: Select, session: Session, scope: Scope, wanted: TicketQuery, *,
              now: datetime, timezone: str) -> Select:
    query = query.where(scope.sees_ticket())
    if wanted.number:
        query = query.where(Ticket.number.startswith(wanted.number, autoescape=True))
    if wanted.phone:
        query = query.where(Ticket.caller_phone.contains(wanted.phone, autoescape=True))
    if wanted.customer:
        accounts = select(Customer.id).where(Customer.account_no == wanted.customer)
        query = query.where(or_(Ticket.caller_name.contains(wanted.customer, autoescape=True),
                                Ticket.customer_id.in_(accounts)))
    if wanted.unit:
        root = session.scalar(select(Region.id).where(Region.code == wanted.unit))
        query = query.where(Ticket.region_id.in_(region_subtree(session, root) if root else []))
    if wanted.type:
        query = query.where(Ticket.type == wanted.type)
    if wanted.status:
        query = query.where(Ticket.status == wanted.status)
    if wanted.received_from:
        query = query.where(Ticket.received_at >= _local_start(wanted.received_from, timezone))
    if wanted.received_to:
        query = query.where(
            Ticket.received_at < _local_start(wanted.received_to, timezone, next_day=True))
    if wanted.overdue:
        late = exists().where(TicketClock.ticket_id == Ticket.id, TicketClock.met_at.is_(None),
                              TicketClock.due_at <= now)
        query = query.where(Ticket.status.in_(OPEN_STATUSES), late)
    return query


def search_tickets(session: Session, scope: Scope, wanted: TicketQuery, *, now: datetime,
                   timezone: str, offset: int, limit: int) -> Listing:
    """One page of the tickets found, newest first, and how many were found in all."""
    page, total = _page(select(*COLUMNS).join(Region, Ticket.region_id == Region.id), session,
                        scope, wanted, now=now, timezone=timezone, offset=offset, limit=limit)
    return Listing(session.execute(page).all(), total)


def find_tickets(session: Session, scope: Scope, wanted: TicketQuery, *, now: datetime,
                 timezone: str, offset: int, limit: int) -> Listing:
    """The same search as whole tickets (with their unit), for the API's answers."""
    page, total = _page(select(Ticket).options(joinedload(Ticket.region)), session, scope,
                        wanted, now=now, timezone=timezone, offset=offset, limit=limit)
    return Listing(list(session.scalars(page)), total)


def _page(query: Select, session: Session, scope: Scope, wanted: TicketQuery, *, now: datetime,
          timezone: str, offset: int, limit: int) -> tuple[Select, int]:
    """The query of one page, newest first, and the count of everything found."""
    page = (_filtered(query, session, scope, wanted, now=now, timezone=timezone)
            .order_by(Ticket.received_at.desc(), Ticket.id.desc()).offset(offset).limit(limit))
    total = session.scalar(_filtered(select(func.count(Ticket.id)), session, scope, wanted,
                                     now=now, timezone=timezone))
    return page, total
