"""Opening a ticket, the one use case behind `gridline ticket create` and the portal's intake:
validate, count its deadlines on the working calendar by the rules in force, store and commit it,
then start its lifecycle run."""

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

import httpx
from prefect.exceptions import ObjectNotFound
from sqlalchemy.orm import Session

from flows.lifecycle import start_lifecycle, wants_run
from models.core.errors import InputError
from models.tickets.calendar import WorkCalendar
from models.tickets.intake import parse_intake
from models.tickets.ticket import Ticket
from tasks.core.settings import Settings, get_settings
from tasks.org.scope import Scope
from tasks.tickets.calendar_store import centre_calendar
from tasks.tickets.intake_forms import bind_form, claim_form
from tasks.tickets.rule_store import load_rules
from tasks.tickets.store import create_ticket, find_region


class LifecycleNotStarted(Exception):
    """The ticket is stored, but its run could not be started (the Prefect server is away)."""

    def __init__(self, number: str, cause: Exception):
        super().__init__(f"ticket {number} saved, its lifecycle not started: {cause}")
        self.number, self.cause = number, cause
        self.zh = f"工单 {number} 已保存，但流程未能启动（Prefect 服务不可用）"


class Opened(NamedTuple):
    ticket: Ticket
    calendar: WorkCalendar  # its fallback_years say which years were counted Monday-Friday


def open_ticket(session: Session, data: dict, *, now: datetime, start: bool | None = None,
                scope: Scope | None = None, form: str | None = None,
                settings: Settings | None = None,
                on_created: Callable[[Ticket], None] | None = None) -> Opened:
    """Store a ticket from intake `data` and start its run (by default when a Prefect API is
    configured). Bad input raises InputError and writes nothing. With the agent's `scope`, the
    region and the customer linked must be theirs, and a ticket without a region takes the
    customer's or else the agent's own unit. `form`, a one-time intake form token, is consumed:
    a second call with it raises AlreadyOpened naming the ticket the first created; `on_created`
    writes the caller's own record of the ticket in its transaction (the API's idempotency key).
    A run that
    cannot be started raises LifecycleNotStarted after the ticket is committed."""
    settings = settings or get_settings()
    if form is not None:
        claim_form(session, form, scope.staff.id, now=now,
                   valid_hours=settings.portal.intake_form_hours)
    intake = parse_intake(data)
    regions = scope.region_ids if scope else None
    region = find_region(session, intake.region) if intake.region else None
    if regions is not None and region is not None and region.id not in regions:
        raise InputError("region", "不在您的管辖范围内", "region outside your scope")
    calendar = centre_calendar(session, settings)
    ticket = create_ticket(session, intake, now=now, calendar=calendar, rules=load_rules(session),
                           regions=regions, home=scope.staff.department.region if scope else None,
                           agent=scope.staff if scope else None)
    if form is not None:
        bind_form(session, form, ticket)
    if on_created is not None:
        on_created(ticket)
    session.commit()  # before the run starts, so the run always finds its ticket
    if wants_run(start):
        try:
            ticket.flow_run_id = start_lifecycle(session, ticket)
        except (httpx.HTTPError, ObjectNotFound) as exc:  # the server away, or not deployed yet
            raise LifecycleNotStarted(ticket.number, exc) from exc
        session.commit()
    return Opened(ticket, calendar)
