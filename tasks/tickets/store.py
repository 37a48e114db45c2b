"""Storing tickets: intake with its deadline clocks, look-up, and the timeline."""

from datetime import datetime

import pendulum
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from models.core.errors import InputError
from models.core.formatting import mask_phone
from models.org.customer import Customer
from models.org.organisation import Region, Staff
from models.tickets.calendar import WorkCalendar
from models.tickets.intake import TicketIntake
from models.tickets.rules import DeadlineRule, applicable_rules, due_times
from models.tickets.ticket import Event, Ticket, TicketClock
from tasks.integrations import webhooks


def find_region(session: Session, code: str) -> Region:
    region = session.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise InputError("region", "未知的区域代码", f"unknown region code {code!r}")
    return region


def find_customer_by_phone(session: Session, phone: str,
                           regions: frozenset[int] | None = None) -> Customer | None:
    """The customer of a number; with `regions`, only one of those regions (a customer outside
    them is not found, exactly as an unknown number)."""
    query = select(Customer).where((Customer.phone == phone) | (Customer.alt_phone == phone))
    if regions is not None:
        query = query.where(Customer.region_id.in_(regions))
    return session.scalars(query.order_by(Customer.id).limit(1)).first()


def next_ticket_number(session: Session, received_local: pendulum.DateTime) -> str:
    """YYYYMMDD + six-digit sequence of the local day, e.g. 20261123000042."""
    prefix = received_local.format("YYYYMMDD")
    last = session.scalar(select(func.max(Ticket.number)).where(Ticket.number.like(f"{prefix}%")))
    seq = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{seq:06d}"


def create_ticket(session: Session, intake: TicketIntake, *, now: datetime,
                  calendar: WorkCalendar, rules: list[DeadlineRule],
                  regions: frozenset[int] | None = None, home: Region | None = None,
                  agent: Staff | None = None) -> Ticket:
    """Store a validated ticket with the due time of each of its clocks, or raise and write nothing.
    `regions` limit the customers it may be linked to; without a region of its own it takes the
    customer's, else `home` (the agent's unit), else the top of the organisation. The timeline
    credits `agent`, who took the call (the system when none did), and names the caller."""
    received_at = intake.received_at or now
    customer = find_customer_by_phone(session, intake.phone, regions)
    if intake.region:
        region = find_region(session, intake.region)
    elif customer is not None:
        region = customer.region
    elif home is not None:
        region = home
    else:
        region = session.scalars(
            select(Region).where(Region.parent_id.is_(None)).order_by(Region.id)).first()
        if region is None:
            raise InputError("region", "尚未配置任何区域", "no region configured: run demo seed or load regions")
    area = customer.area_kind if customer is not None else region.area_kind

    received_local = pendulum.instance(received_at).in_timezone(calendar.timezone)
    chosen = applicable_rules(rules, intake.type, intake.subtype, area, received_local.date())
    if not chosen:
        raise InputError("type", "该类型没有生效的期限规则",
                         f"no deadline rule in force for {intake.type.value} on {received_local.date()}")
    clocks = due_times(chosen, received_at, calendar)

    for attempt in range(5):  # two intakes in the same instant may pick the same number
        ticket = Ticket(
            number=next_ticket_number(session, received_local), type=intake.type,
            subtype=intake.subtype, channel=intake.channel, urgency=intake.urgency,
            content=intake.content, customer=customer, caller_name=intake.name,
            caller_phone=intake.phone, address=intake.address, line=intake.line or None,
            region=region, area_kind=area,
            received_at=received_at, rule_version=chosen[0].version,
            clocks=[TicketClock(clock=c.clock, label=c.label, due_at=c.due_at,
                                warn_minutes=c.warn_minutes) for c in clocks],
        )
        ticket.events.append(Event(
            at=now, kind="received", actor_id=agent.id if agent else None,
            actor=agent.name if agent else "系统",
            message=f"受理{intake.type.label}工单（{intake.channel.label}），来电人{intake.name}",
            detail={"channel": intake.channel.value, "caller": intake.name},
        ))
        savepoint = session.begin_nested()
        session.add(ticket)
        try:
            savepoint.commit()
            webhooks.ticket_created(session, ticket, now)
            return ticket
        except IntegrityError:
            savepoint.rollback()
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def get_ticket(session: Session, number: str) -> Ticket:
    ticket = session.scalars(
        select(Ticket).where(Ticket.number == number)
        .options(selectinload(Ticket.clocks), selectinload(Ticket.steps),
                 selectinload(Ticket.events))
    ).first()
    if ticket is None:
        raise InputError("number", "工单不存在", f"no ticket numbered {number!r}")
    return ticket



def record_phone_reveal(session: Session, ticket: Ticket, staff: Staff, now: datetime) -> None:
    """Who saw the caller's full number, and when: in the timeline, the number masked (the full
    one in the detail, for the record)."""
    session.add(Event(ticket=ticket, at=now, kind="phone_revealed", actor_id=staff.id,
                      actor=staff.name, message=f"查看客户完整号码 {mask_phone(ticket.caller_phone)}",
                      detail={"phone": ticket.caller_phone}))
