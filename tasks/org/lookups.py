"""Customer lookups at intake: each one recorded (who asked for which number, when) and limited per
agent, so nobody walks a list of numbers through the intake page."""

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.org.customer import CustomerLookup

WINDOW = timedelta(minutes=1)


def start_lookup(session: Session, staff_id: int, phone: str, *, now: datetime,
                 per_minute: int) -> CustomerLookup:
    """The lookup, recorded; `refused` when the agent is over the limit. The row is committed
    before counting, so of many simultaneous lookups at most `per_minute` pass."""
    lookup = CustomerLookup(staff_id=staff_id, phone=phone, looked_up_at=now)
    session.add(lookup)
    session.commit()
    recent = session.scalar(select(func.count()).select_from(CustomerLookup).where(
        CustomerLookup.staff_id == staff_id, CustomerLookup.looked_up_at > now - WINDOW))
    if recent > per_minute:
        lookup.refused = True
        session.commit()
    return lookup
