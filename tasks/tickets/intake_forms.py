"""One-time intake forms: each rendered form carries a token stored here, consumed by the ticket it
creates. A second POST of the same form (a double click, the back button) finds that ticket."""

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from models.core.errors import InputError
from models.tickets.ticket import IntakeToken, Ticket


class AlreadyOpened(Exception):
    """This form was submitted before: its ticket exists, nothing new was created."""

    def __init__(self, number: str):
        super().__init__(f"this intake form already created ticket {number}")
        self.number = number


def issue_form(session: Session, staff_id: int, *, now: datetime, valid_hours: int) -> str:
    session.execute(delete(IntakeToken).where(
        IntakeToken.issued_at <= now - timedelta(hours=valid_hours)))  # the table stays small
    token = secrets.token_urlsafe(32)
    session.add(IntakeToken(token=token, staff_id=staff_id, issued_at=now))
    session.commit()
    return token


def claim_form(session: Session, token: str, staff_id: int, *, now: datetime,
               valid_hours: int) -> None:
    """Mark the form used, in the transaction that will create its ticket. A simultaneous second
    POST waits on the row until the first commits, then raises AlreadyOpened with its ticket."""
    claimed = session.execute(
        update(IntakeToken).where(IntakeToken.token == token, IntakeToken.staff_id == staff_id,
                                  IntakeToken.used_at.is_(None),
                                  IntakeToken.issued_at > now - timedelta(hours=valid_hours))
        .values(used_at=now)).rowcount
    if claimed == 1:
        return
    number = session.scalar(select(Ticket.number).join(
        IntakeToken, IntakeToken.ticket_id == Ticket.id).where(
        IntakeToken.token == token, IntakeToken.staff_id == staff_id))
    if number:
        raise AlreadyOpened(number)
    raise InputError("form", "表单已过期，请核对后重新提交", "intake form unknown or expired")


def bind_form(session: Session, token: str, ticket: Ticket) -> None:
    session.flush()
    session.execute(update(IntakeToken).where(IntakeToken.token == token)
                    .values(ticket_id=ticket.id))
