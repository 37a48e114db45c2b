"""A ticket's clocks as its lifecycle moves: a step's own clock (review, callback) starts when the
step opens and is met when it is done; a clock is met at the time recorded on the form where the
form records one (the crew's arrival), and the clocks that start after it count from then."""

from datetime import datetime

from sqlalchemy.orm import Session

from models.core.formatting import local_time
from models.tickets.rules import restarted_after, span_end, step_rule
from models.tickets.ticket import Ticket, TicketClock
from tasks.core.settings import get_settings
from tasks.tickets.calendar_store import centre_calendar
from tasks.tickets.rule_store import ticket_rules

# The form field that records when the work was actually done, by form.
RECORDED_AT = {"arrival": "arrived_at"}


def _clock(ticket: Ticket, name: str) -> TicketClock | None:
    return next((c for c in ticket.clocks if c.clock == name), None)


def start_step_clock(session: Session, ticket: Ticket, name: str | None,
                     now: datetime) -> datetime | None:
    """The due time of a step's own clock, counted from now (the step opens); None when `name`
    is no such clock. A step opened again starts its clock again."""
    settings = get_settings()
    rule = step_rule(ticket_rules(session, ticket, settings.timezone), name)
    if rule is None:
        return None
    due = span_end(rule, now, centre_calendar(session, settings))
    clock = _clock(ticket, rule.clock)
    if clock is None:
        ticket.clocks.append(TicketClock(clock=rule.clock, label=rule.label, due_at=due,
                                         warn_minutes=rule.warn_minutes))
    else:
        clock.due_at, clock.met_at = due, None
    return due


def meet_clocks(session: Session, ticket: Ticket, names: set[str], own: str | None,
                met_at: datetime) -> str:
    """Meet the clocks a transition names, and the step's own clock; the clocks that start after
    one of them count again from `met_at`. Returns what moved, for the timeline."""
    settings = get_settings()
    rules = ticket_rules(session, ticket, settings.timezone)
    if step_rule(rules, own) is not None:
        names = names | {own}
    moved = []
    for clock in [c for c in ticket.clocks if c.clock in names and c.met_at is None]:
        clock.met_at = met_at
        restarted = restarted_after(rules, clock.clock, met_at, centre_calendar(session, settings)) \
            if any(r.starts_after == clock.clock for r in rules) else {}
        for name, due in restarted.items():
            dependent = _clock(ticket, name)
            if dependent is not None and dependent.met_at is None:
                dependent.due_at = due
                moved.append(f"{dependent.label}期限{local_time(due, settings.timezone)}")
    return "，".join(moved)
