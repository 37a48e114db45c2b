"""What the portal reads of the outbox: a ticket's messages, and for supervision the messages of
the tickets in a reader's scope, paged, with the ones a supervisor may send again."""

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models.messaging.outbox import OutboxMessage, OutboxStatus
from models.tickets.ticket import Ticket
from tasks.core.paging import Listing
from tasks.org.scope import Scope

# Queued this long past its time and still not sent: the deliverer is not getting to it (the
# schedule is down, the platform hangs), so a supervisor may push it to the front again.
STUCK_AFTER = timedelta(minutes=15)
RESENDABLE = (OutboxStatus.failed, OutboxStatus.dead)


def messages_of(session: Session, ticket_id: int) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id)
                                .order_by(OutboxMessage.created_at)))


def _of_visible_tickets(scope: Scope):
    return OutboxMessage.ticket_id.in_(select(Ticket.id).where(scope.sees_ticket()))


def states(session: Session, scope: Scope) -> dict[OutboxStatus, int]:
    """How many messages of the reader's tickets stand in each state."""
    return dict(session.execute(
        select(OutboxMessage.status, func.count()).where(_of_visible_tickets(scope))
        .group_by(OutboxMessage.status)).all())


def stuck_before(now: datetime) -> datetime:
    return now - STUCK_AFTER


def may_resend(message: OutboxMessage, now: datetime) -> bool:
    """Failed or given up, or queued and stuck: what the resend button is shown for."""
    return message.status in RESENDABLE or (
        message.status == OutboxStatus.queued and message.next_attempt_at <= stuck_before(now))


def undelivered(session: Session, scope: Scope, *, now: datetime, status: OutboxStatus | None,
                offset: int, limit: int) -> Listing:
    """(message, ticket) of the reader's tickets not delivered yet (or in `status`), oldest
    first, one page of them, and how many in all."""
    wanted = (OutboxMessage.status == status if status is not None
              else OutboxMessage.status != OutboxStatus.sent)
    where = (_of_visible_tickets(scope), wanted)
    rows = session.execute(
        select(OutboxMessage, Ticket).join(Ticket, OutboxMessage.ticket_id == Ticket.id)
        .where(*where).order_by(OutboxMessage.created_at, OutboxMessage.id)
        .offset(offset).limit(limit)).all()
    return Listing(rows, session.scalar(select(func.count(OutboxMessage.id)).where(*where)))


def stuck_count(session: Session, scope: Scope, now: datetime) -> int:
    return session.scalar(select(func.count(OutboxMessage.id)).where(
        _of_visible_tickets(scope), or_(
            OutboxMessage.status.in_(RESENDABLE),
            (OutboxMessage.status == OutboxStatus.queued)
            & (OutboxMessage.next_attempt_at <= stuck_before(now)))))


def visible_message(session: Session, scope: Scope, message_id: int) -> bool:
    """The message belongs to a ticket the reader may see."""
    return session.scalar(
        select(OutboxMessage.id).join(Ticket, OutboxMessage.ticket_id == Ticket.id)
        .where(OutboxMessage.id == message_id, scope.sees_ticket())) is not None


