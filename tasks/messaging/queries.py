"""What the portal reads of the outbox: a ticket's messages, and for supervision the messages of
the tickets in a reader's scope."""

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from models.messaging.outbox import OutboxMessage, OutboxStatus
from models.tickets.ticket import Ticket
from tasks.org.scope import Scope


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


def undelivered(session: Session, scope: Scope, limit: int) -> list[Row]:
    """(message, ticket) of the reader's tickets not delivered yet, oldest first."""
    return list(session.execute(
        select(OutboxMessage, Ticket).join(Ticket, OutboxMessage.ticket_id == Ticket.id)
        .where(_of_visible_tickets(scope), OutboxMessage.status != OutboxStatus.sent)
        .order_by(OutboxMessage.created_at).limit(limit)))


def visible_message(session: Session, scope: Scope, message_id: int) -> bool:
    """The message belongs to a ticket the reader may see."""
    return session.scalar(
        select(OutboxMessage.id).join(Ticket, OutboxMessage.ticket_id == Ticket.id)
        .where(OutboxMessage.id == message_id, scope.sees_ticket())) is not None
