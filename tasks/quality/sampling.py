"""Drawing a plan's sample for a period: the population from the database (closed in the period,
of the plan's types, channels and unit, with the agent who took the call), the pure draw with a
stored seed, dealt round-robin to the unit's inspectors. Drawing a period twice finds the first."""

import secrets
from dataclasses import dataclass
from datetime import date, datetime

import pendulum
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.core.enums import DepartmentKind, StaffRole
from models.org.organisation import Department, Region, Staff
from models.quality.sampling import Candidate, Plan, deal, draw, period_of, previous_period
from models.quality.tables import Inspection, Sample
from models.tickets.ticket import Event, Ticket
from tasks.org.scope import region_subtree


@dataclass(frozen=True)
class Drawn:
    sample: Sample
    inspections: int
    new: bool  # False: the period was drawn before, nothing changed


def _unit_regions(session: Session, plan: Plan) -> frozenset[int]:
    root = session.scalar(select(Region.id).where(Region.code == plan.unit))
    if root is None:
        raise LookupError(plan.unit)
    return region_subtree(session, root)


def population(session: Session, plan: Plan, first: date, end: date,
               timezone: str) -> list[Candidate]:
    """Tickets closed in [first, end) (local dates) of the plan's unit, types and channels, each
    with the agent who took it (the actor of its `received` event)."""
    start_at = pendulum.datetime(first.year, first.month, first.day, tz=timezone)
    end_at = pendulum.datetime(end.year, end.month, end.day, tz=timezone)
    query = (select(Ticket.id, Event.actor_id, Ticket.type, Ticket.channel)
             .join(Event, (Event.ticket_id == Ticket.id) & (Event.kind == "received"))
             .where(Event.actor_id.is_not(None), Ticket.closed_at >= start_at,
                    Ticket.closed_at < end_at,
                    Ticket.region_id.in_(_unit_regions(session, plan))))
    if plan.ticket_types:
        query = query.where(Ticket.type.in_(plan.ticket_types))
    if plan.channels:
        query = query.where(Ticket.channel.in_(plan.channels))
    return [Candidate(t, a, str(kind), str(channel)) for t, a, kind, channel in session.execute(query)]


def inspectors(session: Session, plan: Plan) -> list[Staff]:
    """Active staff who inspect in the plan's unit: 质检员, or anyone of a 质量管理部."""
    return list(session.scalars(
        select(Staff).join(Staff.department)
        .where(Staff.active, Department.region_id.in_(_unit_regions(session, plan)),
               or_(Staff.role == StaffRole.inspector, Department.kind == DepartmentKind.quality))
        .order_by(Staff.code)))


def _taken(session: Session, plan: Plan, sample_id: int | None = None) -> frozenset[int]:
    query = select(Inspection.ticket_id).where(Inspection.plan == plan.key)
    if sample_id is not None:
        query = query.where(Inspection.sample_id != sample_id)
    return frozenset(session.scalars(query))


def draw_period(session: Session, plan: Plan, day: date, *, now: datetime, timezone: str,
                seed: int | None = None) -> Drawn:
    """Draw and deal the sample of the period holding `day`, once: a second call finds it."""
    first, end = period_of(plan, day)
    found = session.scalar(select(Sample).where(Sample.plan == plan.key,
                                                Sample.period_start == first))
    if found is not None:
        count = len(session.scalars(select(Inspection.id).where(
            Inspection.sample_id == found.id)).all())
        return Drawn(found, count, False)
    people = [s.id for s in inspectors(session, plan)]
    candidates = population(session, plan, first, end, timezone)
    seed = secrets.randbits(31) if seed is None else seed
    tickets = draw(plan, candidates, seed, _taken(session, plan))
    agent_of = {c.ticket_id: c.agent_id for c in candidates}
    pairs = deal(tickets, people) if tickets else []
    sample = Sample(plan=plan.key, period_start=first, period_end=end, seed=seed, drawn_at=now)
    session.add(sample)
    session.flush()
    session.add_all(Inspection(sample_id=sample.id, plan=plan.key, ticket_id=ticket,
                               agent_id=agent_of[ticket], inspector_id=inspector)
                    for ticket, inspector in pairs)
    session.flush()
    return Drawn(sample, len(pairs), True)


def redraw(session: Session, plan: Plan, sample: Sample, timezone: str) -> list[int]:
    """The tickets the stored seed draws from the period's population today (the other periods'
    samples set aside as when it was drawn): the stored sample, if nothing changed since."""
    candidates = population(session, plan, sample.period_start, sample.period_end, timezone)
    return draw(plan, candidates, sample.seed, _taken(session, plan, sample.id))


def sampled(session: Session, sample: Sample) -> list[int]:
    return sorted(session.scalars(select(Inspection.ticket_id)
                                  .where(Inspection.sample_id == sample.id)))


def draw_due(session: Session, plans: dict[str, Plan], today: date, *, now: datetime,
             timezone: str, seed: int | None = None) -> dict[str, Drawn]:
    """Each plan's last whole period before `today`, drawn if it was not (what the schedule runs)."""
    return {key: draw_period(session, p, previous_period(p, today)[0], now=now, timezone=timezone,
                             seed=seed)
            for key, p in plans.items()}
