"""Deadline rules as stored in the database."""

from functools import cache
from pathlib import Path

import pendulum
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models.core.enums import TicketType
from models.tickets.rules import DEFAULT_RULES_FILE, DeadlineRule, applicable_rules, read_rule_file
from models.tickets.ticket import Ticket

Clocks = frozenset[tuple[TicketType, str]]


def load_rules(session: Session) -> list[DeadlineRule]:
    return list(session.scalars(select(DeadlineRule)))


def rule_clocks(session: Session) -> Clocks:
    """(ticket type, clock) of every rule stored, of any version; the default set's while the
    database holds none."""
    stored = session.execute(select(DeadlineRule.ticket_type, DeadlineRule.clock).distinct())
    return frozenset(tuple(row) for row in stored) or default_clocks()


@cache
def default_clocks() -> Clocks:
    return frozenset((r.ticket_type, r.clock) for r in read_rule_file(DEFAULT_RULES_FILE))


def store_rule_file(session: Session, path: Path) -> tuple[str, int]:
    """Replace one version's rules with the file's, whole: a bad file changes nothing."""
    rows = read_rule_file(path)
    version = rows[0].version if rows else ""
    session.execute(delete(DeadlineRule).where(DeadlineRule.version == version))
    session.add_all(rows)
    session.flush()
    return version, len(rows)


def ensure_default_rules(session: Session) -> None:
    """The default set, when the database holds no rules; where it holds the default version,
    the clocks a newer release of that version added (the review and callback steps')."""
    stored = list(session.scalars(select(DeadlineRule)))
    if not stored:
        store_rule_file(session, DEFAULT_RULES_FILE)
        return
    defaults = read_rule_file(DEFAULT_RULES_FILE)
    known = {_identity(r) for r in stored}
    if any(r.version == defaults[0].version for r in stored):
        session.add_all(r for r in defaults if _identity(r) not in known)
        session.flush()


def _identity(rule: DeadlineRule) -> tuple:
    return rule.version, rule.ticket_type, rule.subtype, rule.area_kind, rule.clock


def ticket_rules(session: Session, ticket: Ticket, timezone: str) -> list[DeadlineRule]:
    """The rules a ticket's clocks came from: its version's, for its type, subtype and area."""
    rules = list(session.scalars(select(DeadlineRule).where(
        DeadlineRule.version == ticket.rule_version, DeadlineRule.ticket_type == ticket.type)))
    received = pendulum.instance(ticket.received_at).in_timezone(timezone).date()
    return applicable_rules(rules, ticket.type, ticket.subtype, ticket.area_kind, received)
