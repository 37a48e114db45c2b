"""Deadline rules as stored in the database."""

from functools import cache
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models.core.enums import TicketType
from models.tickets.rules import DEFAULT_RULES_FILE, DeadlineRule, read_rule_file

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
    if not session.scalar(select(func.count()).select_from(DeadlineRule)):
        store_rule_file(session, DEFAULT_RULES_FILE)
