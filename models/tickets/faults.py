"""The one rule of a known fault: what the intake page lists as 已知故障 and what the fault
lifecycle's check links a new ticket to, so the agent and the system always agree."""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists

from models.core.enums import OPEN_STATUSES, TicketType
from models.core.formatting import local_time
from models.outages.outage import Outage
from models.tickets.links import TicketLink
from models.tickets.ticket import Ticket, TicketClock

RESTORE = "restore"  # the clock whose meeting says power is back


def known_fault(region_id: int, at: datetime, window: timedelta) -> list[ColumnElement[bool]]:
    """A fault ticket of the same area (region), still open, received within `window` before
    `at`, whose power is not yet restored, and itself the first of its fault (no one's member)."""
    member = exists().where(TicketLink.member_id == Ticket.id)
    restored = exists().where(TicketClock.ticket_id == Ticket.id, TicketClock.clock == RESTORE,
                              TicketClock.met_at.is_not(None))
    return [Ticket.type == TicketType.fault_repair, Ticket.region_id == region_id,
            Ticket.status.in_(OPEN_STATUSES), ~member, ~restored,
            Ticket.received_at <= at, Ticket.received_at >= at - window]


def known_detail(outage: Outage | None, known: Ticket | None,
                 timezone: str) -> tuple[dict[str, str], str]:
    """What the known-fault check records: the outage or the ticket a call is linked to."""
    if outage is not None:
        restore = local_time(outage.restore_at, timezone)
        return ({"outage_no": outage.number, "reason": outage.reason,
                 "restore_at": outage.restore_at.isoformat()},
                f"所在区域{outage.kind.label}{outage.number}：{outage.reason}，"
                f"预计{restore}恢复供电，已关联")
    if known is not None:
        return ({"linked_no": known.number, "linked_at": known.received_at.isoformat()},
                f"同一区域已有故障工单{known.number}，已关联")
    return {}, "未发现已知故障"
