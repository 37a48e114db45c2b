"""Deadline rules as stored in the database."""

from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models.tickets.rules import DEFAULT_RULES_FILE, DeadlineRule, read_rule_file


def load_rules(session: Session) -> list[DeadlineRule]:
    return list(session.scalars(select(DeadlineRule)))


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
