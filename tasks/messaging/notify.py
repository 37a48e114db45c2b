"""Who a lifecycle tells, and what: the one place the lifecycle hands messages to the outbox."""

from datetime import datetime

from sqlalchemy.orm import Session

from models.core.enums import StaffRole, Urgency
from models.org.organisation import Staff
from models.outages.outage import Outage
from models.tickets.lifecycle import Audience, Notice
from models.tickets.ticket import Step, Ticket
from tasks.messaging.outbox import enqueue
from tasks.org.units import duty_supervisor, first_staff


def notify(session: Session, ticket: Ticket, step: Step | None, notices: list[Notice],
           stage: str, now: datetime) -> None:
    """Queue each notice once: the key is the step row's id (the ticket's at the start, when
    there is no step), so a re-run queues nothing more."""
    owner = f"step:{step.id}" if step is not None else f"ticket:{ticket.id}"
    for notice in notices:
        if notice.to == Audience.customer:
            recipient = ticket.caller_phone if notice.channel == "sms" else None
        else:
            staff = _staff_for(session, ticket, step, notice.to)
            recipient = staff and (staff.phone if notice.channel == "sms" else staff.email)
        if not recipient:
            continue  # no one to tell on that channel (a customer has no e-mail on file)
        enqueue(session, key=f"{owner}:{stage}:{notice.to}:{notice.channel}",
                channel=notice.channel, recipient=recipient, template=notice.template,
                context=_context(session, ticket, step), now=now, ticket_id=ticket.id,
                step_id=step.id if step is not None else None,
                to_customer=notice.to == Audience.customer,
                urgent=ticket.urgency != Urgency.normal)


def _staff_for(session: Session, ticket: Ticket, step: Step, audience: Audience) -> Staff | None:
    """The step's assignee; else the head of its department, or the duty supervisor of the
    centre nearest the ticket's own unit."""
    if step.assignee is not None:
        return step.assignee
    if audience == Audience.department:
        return step.department and first_staff(session, step.department.id, StaffRole.head)
    return duty_supervisor(session, ticket.region)


def _context(session: Session, ticket: Ticket, step: Step | None) -> dict:
    """What any lifecycle template may say about the ticket and the step: `deadline` is the
    step's due time, or the ticket's last one (what the customer is promised); the outage a
    fault call is linked to, its reason and expected restore."""
    latest_due = max((c.due_at for c in ticket.clocks), default=ticket.received_at)
    outage = session.get(Outage, ticket.outage_id) if ticket.outage_id else None
    return {
        "outage_kind": outage.kind.label if outage else None,
        "outage_reason": outage.reason if outage else None,
        "outage_restore": outage.restore_at if outage else None,
        "ticket_no": ticket.number, "ticket_type": ticket.type.label, "content": ticket.content,
        "address": ticket.address, "customer_phone": ticket.caller_phone,
        "deadline": (step.due_at if step is not None else None) or latest_due,
        "department": step.department.name if step is not None and step.department else "",
    }
