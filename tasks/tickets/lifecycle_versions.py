"""Lifecycle versions: each page with its forms stored when first seen, and each ticket pinned to
the version its run started on, so a page changed while tickets wait never strands them: they
finish on the old declaration, tickets started after the change take the new one."""

from datetime import datetime
from functools import cache
from pathlib import Path

import pendulum
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.core.enums import OPEN_STATUSES, TicketType
from models.tickets.forms import parse_forms
from models.tickets.lifecycle import LifecycleSpec, parse_lifecycle
from models.tickets.ticket import LifecycleVersion, Ticket


def record_version(session: Session, spec: LifecycleSpec, now: datetime | None = None) -> str:
    """Store the declaration's text under its hash, once."""
    if session.get(LifecycleVersion, spec.version) is None:
        page, forms = spec.texts()
        savepoint = session.begin_nested()
        session.add(LifecycleVersion(version=spec.version, type=spec.type, page=page, forms=forms,
                                     first_seen_at=now or pendulum.now("UTC")))
        try:
            savepoint.commit()
        except IntegrityError:  # another process stored it a moment before
            savepoint.rollback()
    return spec.version


def record_versions(session: Session, specs: dict[TicketType, LifecycleSpec]) -> None:
    for spec in specs.values():
        record_version(session, spec)


@cache
def _parsed(version: str, ticket_type: str, page: str, forms: str) -> LifecycleSpec:
    """A stored version, checked when it was current, so only parsed here."""
    return parse_lifecycle(page, Path(f"{ticket_type}.yaml"), None,
                           parse_forms(forms, Path(f"{version}/forms.yaml")))


def version_spec(session: Session, version: str) -> LifecycleSpec | None:
    row = session.get(LifecycleVersion, version)
    return None if row is None else _parsed(version, row.type.value, row.page, row.forms)


def ticket_lifecycle(session: Session, ticket: Ticket, current: LifecycleSpec) -> LifecycleSpec:
    """The declaration the ticket runs on: its pinned version, else the current one."""
    if ticket.lifecycle_version in (None, current.version):
        return current
    return version_spec(session, ticket.lifecycle_version) or current


def pin(session: Session, ticket: Ticket, current: LifecycleSpec) -> LifecycleSpec:
    """The ticket's run starts (or starts again): a ticket without a version takes the current
    declaration for good; one with a version keeps it."""
    if ticket.lifecycle_version is None:
        ticket.lifecycle_version = record_version(session, current)
        session.flush()
    return ticket_lifecycle(session, ticket, current)


def newest_versions(session: Session) -> dict[TicketType, LifecycleSpec]:
    """Per type, the version stored last: what `lifecycle check` compares a folder with."""
    rows = session.scalars(select(LifecycleVersion).order_by(
        LifecycleVersion.first_seen_at, LifecycleVersion.version))
    return {row.type: _parsed(row.version, row.type.value, row.page, row.forms) for row in rows}


def waiting_by_version(session: Session) -> dict[tuple[TicketType, str | None], int]:
    """How many open tickets each (type, version) holds."""
    rows = session.execute(select(Ticket.type, Ticket.lifecycle_version, func.count()).where(
        Ticket.status.in_(OPEN_STATUSES)).group_by(Ticket.type, Ticket.lifecycle_version))
    return {(kind, version): count for kind, version, count in rows}
