"""The outage register: the outages in effect in a caller's area (the known-fault check and the
intake page), the board's list, an outage entered or opened from a repair ticket, and its
restoration, which meets the clocks of the fault calls linked to it."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.core.errors import InputError
from models.org.organisation import Region
from models.outages.outage import (
    LIVE,
    Outage,
    OutageArea,
    OutageKind,
    OutageStatus,
    covers,
    in_effect,
)
from models.outages.outage_file import OutageRow
from models.tickets.ticket import Event, Ticket


def units_above(session: Session, region_id: int) -> frozenset[int]:
    """A unit and every unit above it: an outage of any of them covers the unit."""
    parents = dict(session.execute(select(Region.id, Region.parent_id)).all())
    found, current = set(), region_id
    while current is not None and current not in found:
        found.add(current)
        current = parents.get(current)
    return frozenset(found)


def outages_in_effect(session: Session, region_id: int, at: datetime, *,
                      limit: int = 10) -> list[Outage]:
    """The outages covering a unit at `at`, the latest started first."""
    return list(session.scalars(
        select(Outage).where(in_effect(at), covers(units_above(session, region_id)))
        .options(selectinload(Outage.areas))
        .order_by(Outage.start_at.desc(), Outage.id.desc()).limit(limit)))


def outages_ahead(session: Session, region_id: int, now: datetime, *,
                  limit: int = 10) -> list[Outage]:
    """The planned outages still to start covering a unit, the soonest first: what a caller may
    be asked about next (the screen pop lists them after those in effect)."""
    return list(session.scalars(
        select(Outage).where(Outage.status == OutageStatus.planned, Outage.start_at > now,
                             covers(units_above(session, region_id)))
        .options(selectinload(Outage.areas).selectinload(OutageArea.region))
        .order_by(Outage.start_at, Outage.id).limit(limit)))


def board(session: Session, region_ids: frozenset[int],
          own_region_id: int) -> list[tuple[Region, list[Outage]]]:
    """The board, by unit: outages neither restored nor cancelled (in effect or to come) of the
    reader's units, and of the units above theirs (they cover the reader's too), soonest first."""
    seen = region_ids | units_above(session, own_region_id)
    outages = session.scalars(
        select(Outage).where(Outage.status.in_(LIVE), covers(seen))
        .options(selectinload(Outage.areas).selectinload(OutageArea.region))
        .order_by(Outage.start_at, Outage.id))
    by_unit: dict[int, tuple[Region, list[Outage]]] = {}
    for outage in outages:
        for area in outage.areas:
            if area.region_id in seen:
                by_unit.setdefault(area.region_id, (area.region, []))[1].append(outage)
    return sorted(by_unit.values(), key=lambda unit: unit[0].code)


def find_outage(session: Session, number: str) -> Outage:
    outage = session.scalar(select(Outage).where(Outage.number == number))
    if outage is None:
        raise InputError("number", f"停电{number}不存在", f"no outage {number}")
    return outage


def _as_row(outage: Outage) -> OutageRow:
    return OutageRow(outage.number, outage.kind, tuple(sorted(a.region_id for a in outage.areas)),
                     tuple(outage.lines), outage.start_at, outage.restore_at, outage.reason,
                     outage.status)


def save_outage(session: Session, row: OutageRow, *, by: str,
                now: datetime) -> tuple[Outage, str]:
    """Create the outage of a checked row, or update the one of its number; (outage, what:
    created / updated / unchanged). A restored outage is history: its row is refused."""
    outage = session.scalar(select(Outage).where(Outage.number == row.number))
    if outage is None:
        outage = Outage(number=row.number, created_at=now, created_by=by)
        session.add(outage)
        what = "created"
    elif outage.status == OutageStatus.restored:
        raise InputError("number", f"停电{row.number}已恢复供电，不能再修改",
                         f"outage {row.number} is restored")
    else:
        what = "unchanged" if _as_row(outage) == row else "updated"
    outage.kind, outage.status, outage.reason = row.kind, row.status, row.reason
    outage.lines, outage.start_at, outage.restore_at = list(row.lines), row.start_at, row.restore_at
    if sorted(a.region_id for a in outage.areas) != list(row.region_ids):
        outage.areas.clear()
        session.flush()  # the old areas' rows go before new ones of the same key come
        outage.areas.extend(OutageArea(region_id=region_id) for region_id in row.region_ids)
    session.flush()
    return outage, what


def open_from_ticket(session: Session, ticket: Ticket, *, reason: str, restore_at: datetime,
                     lines: tuple[str, ...], by: str, now: datetime) -> Outage:
    """An unplanned outage (故障停电) of a repair ticket's unit, in effect since its receipt:
    the next calls of the area hear its reason and restore time."""
    if restore_at <= ticket.received_at:
        raise InputError("restore_at", "预计恢复时间应晚于报修时间",
                         "the expected restore must follow the ticket's receipt")
    number = f"GZ{ticket.number}"
    if session.scalar(select(Outage.id).where(Outage.number == number)) is not None:
        raise InputError("ticket", f"工单{ticket.number}已开立故障停电",
                         f"ticket {ticket.number} already has its outage")
    outage = Outage(number=number, kind=OutageKind.fault, status=OutageStatus.active,
                    lines=list(lines), start_at=ticket.received_at, restore_at=restore_at,
                    reason=reason, source_ticket_id=ticket.id, created_at=now, created_by=by,
                    areas=[OutageArea(region_id=ticket.region_id)])
    session.add(outage)
    session.add(Event(ticket_id=ticket.id, at=now, kind="outage_opened", actor=by,
                      message=f"开立故障停电{number}：{reason}", detail={"outage": number}))
    session.flush()
    return outage


def restore(session: Session, outage: Outage, *, at: datetime, by: str, now: datetime) -> int:
    """Power is back at `at`: the outage is restored and each call linked to it has its open
    clocks met then (never before it was received). Returns how many calls were met."""
    if outage.status in (OutageStatus.restored, OutageStatus.cancelled):
        return 0
    outage.status, outage.restored_at = OutageStatus.restored, at
    met = 0
    for linked in session.scalars(select(Ticket).where(Ticket.outage_id == outage.id)):
        open_clocks = [c for c in linked.clocks if c.met_at is None]
        for clock in open_clocks:
            clock.met_at = max(at, linked.received_at)
        if open_clocks:
            met += 1
            session.add(Event(ticket_id=linked.id, at=now, kind="linked_met", actor=by,
                              message=f"关联的停电{outage.number}已恢复供电，本单期限随之完成",
                              detail={"outage": outage.number}))
    return met


def cancel(session: Session, outage: Outage) -> None:
    """The outage will not happen. The customers told of it hear so from the next notice pass
    (tasks/outages/notices.send_updates), which reads the status, as it does an import's 取消:
    nothing is queued here, so neither way of cancelling can miss or double the message."""
    if outage.status == OutageStatus.restored:
        raise InputError("status", "已恢复的停电不能取消", f"outage {outage.number} is restored")
    outage.status = OutageStatus.cancelled
