"""From a call to the scripts for it: the caller's customer gives the unit chain (their unit, then
each level above) and the tags; the ticket its type and subtype."""

from sqlalchemy.orm import Session

from models.knowledge.rules import CallContext
from models.org.customer import Customer
from models.org.organisation import Region
from models.tickets.ticket import Ticket


def customer_tags(customer: Customer | None) -> frozenset[str]:
    """The tags a scope may ask for: 重要客户 and the customer's area (城市, 农村 ...)."""
    if customer is None:
        return frozenset()
    tags = {customer.area_kind.label}
    if customer.important:
        tags.add("重要客户")
    return frozenset(tags)


def region_chain(session: Session, region_id: int | None) -> tuple[int, ...]:
    chain, place = [], session.get(Region, region_id) if region_id else None
    while place is not None:
        chain.append(place.id)
        place = place.parent
    return tuple(chain)


def call_for_customer(session: Session, customer: Customer | None, *, ticket_type: str | None = None,
                      subtype: str | None = None, events: frozenset[str] = frozenset()
                      ) -> CallContext:
    return CallContext(ticket_type=ticket_type, subtype=subtype,
                       regions=region_chain(session, customer.region_id if customer else None),
                       events=events, tags=customer_tags(customer))


def call_for_ticket(session: Session, ticket: Ticket,
                    events: frozenset[str] = frozenset()) -> CallContext:
    return CallContext(ticket_type=ticket.type.value, subtype=ticket.subtype,
                       regions=region_chain(session, ticket.region_id), events=events,
                       tags=customer_tags(ticket.customer))
