"""Ticket association (工单关联): links a person confirms (or the known-fault check writes),
suggestions for a new ticket, a master's reply carried to every member once, and the open
members closed with their master when a person chooses so (一并办结从单)."""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from models.core.enums import OPEN_STATUSES, StepStatus, TicketStatus
from models.core.errors import InputError
from models.messaging.outbox import OutboxMessage
from models.tickets.links import LinkKind, TicketLink, link_problem, similarity
from models.tickets.ticket import Event, Step, Ticket
from tasks.messaging.outbox import enqueue
from tasks.statistics.rollup import mark_stale

SUGGEST_WINDOW = timedelta(hours=24)
SUGGEST_SIMILARITY = 0.2  # share of character pairs in common
WITH_MASTER = "随主单办结"  # the outcome recorded on a member's open steps


def master_of(session: Session, ticket_id: int) -> Ticket | None:
    return session.scalar(select(Ticket).join(TicketLink, TicketLink.master_id == Ticket.id)
                          .where(TicketLink.member_id == ticket_id))


def members_of(session: Session, master_id: int) -> list[Ticket]:
    return list(session.scalars(
        select(Ticket).join(TicketLink, TicketLink.member_id == Ticket.id)
        .where(TicketLink.master_id == master_id).order_by(Ticket.id)))


def link(session: Session, master: Ticket, member: Ticket, kind: LinkKind, *, by: str,
         now: datetime) -> TicketLink:
    """Link `member` under `master`, one level deep; both timelines say so. Refused with the
    reason when it would nest, repeat or loop."""
    ids = (master.id, member.id)
    rows = session.execute(select(TicketLink.master_id, TicketLink.member_id).where(
        or_(TicketLink.master_id.in_(ids), TicketLink.member_id.in_(ids)))).all()
    problem = link_problem(master.id, member.id, {m for m, _ in rows}, {m for _, m in rows})
    if problem:
        raise InputError("master", problem, f"cannot link {member.number} under {master.number}")
    row = TicketLink(master_id=master.id, member_id=member.id, kind=kind, created_at=now,
                     created_by=by)
    session.add(row)
    for ticket, other, role in ((member, master, "主单"), (master, member, "从单")):
        session.add(Event(ticket_id=ticket.id, at=now, kind="linked", actor=by,
                          message=f"关联工单（{kind.label}）：{role}{other.number}",
                          detail={"master": master.number, "member": member.number,
                                  "kind": kind.value}))
    session.flush()
    return row


def suggestions(session: Session, ticket: Ticket, *, limit: int = 5,
                also: tuple[ColumnElement[bool], ...] = ()) -> list[tuple[Ticket, float]]:
    """Open tickets of the same unit and type received within a day of this one, not yet
    linked, whose text is alike: the most alike first, for a person to confirm (`also`: the
    reader's scope)."""
    linked = select(TicketLink.member_id)
    near = session.scalars(select(Ticket).where(*also,
        Ticket.id != ticket.id, Ticket.region_id == ticket.region_id, Ticket.type == ticket.type,
        Ticket.status.in_(OPEN_STATUSES), Ticket.id.not_in(linked),
        Ticket.received_at.between(ticket.received_at - SUGGEST_WINDOW,
                                   ticket.received_at + SUGGEST_WINDOW)))
    scored = [(other, similarity(ticket.content, other.content)) for other in near]
    scored = [pair for pair in scored if pair[1] >= SUGGEST_SIMILARITY]
    return sorted(scored, key=lambda pair: (-pair[1], pair[0].id))[:limit]


def propagate_reply(session: Session, master: Ticket, reply: str, *, reply_id: int,
                    now: datetime) -> int:
    """The master's reply (its event `reply_id`) reaches every member: in its timeline and by
    SMS to its caller, once each however often this runs. Members' own clocks and callbacks are
    left as they are. Returns how many members were newly told."""
    told = 0
    for member in members_of(session, master.id):
        key = f"link:{master.id}:reply:{reply_id}:member:{member.id}:sms"
        if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)):
            continue  # told by an earlier run
        enqueue(session, key=key, channel="sms", recipient=member.caller_phone,
                          template="linked_reply",
                          context={"ticket_no": member.number, "master_no": master.number,
                                   "reply": reply},
                          now=now, ticket_id=member.id, to_customer=True)
        session.add(Event(ticket_id=member.id, at=now, kind="master_reply", actor="系统",
                          message=f"主单{master.number}的答复：{reply}",
                          detail={"master": master.number, "reply_event": reply_id}))
        told += 1
    session.flush()
    return told


def refuse_close_over_open_members(session: Session, master: Ticket) -> None:
    """A master does not close while a member is open: each member keeps its own callback, so
    it closes first (a fault call linked at intake is closed at once), or with the master by
    `close_members`."""
    still_open = [m.number for m in members_of(session, master.id)
                  if m.status in OPEN_STATUSES]
    if still_open:
        raise InputError("result", f"从单{'、'.join(still_open)}尚未办结，主单暂不能办结",
                         f"members {', '.join(still_open)} are still open")


def close_members(session: Session, master: Ticket, *, by: str, now: datetime) -> list[Ticket]:
    """一并办结从单: each open member of `master` closes now, without its own callback: its open
    steps done as 随主单办结, its running clocks met (at the master's own time for a clock the
    master has met, never before the member was received; no deadline moves), a timeline line,
    and its customer told once by the closure notice. A member closed already is passed by, so a
    re-run changes nothing. Returns the members closed."""
    if master_of(session, master.id) is not None:
        raise InputError("master", "本单是从单，不能办结其他工单", f"{master.number} is a member")
    met = {c.clock: c.met_at for c in master.clocks if c.met_at is not None}
    closed = []
    for member in members_of(session, master.id):
        if member.status not in OPEN_STATUSES or not _closed_here(session, member, now):
            continue
        session.execute(update(Step).where(Step.ticket_id == member.id,
                                           Step.status == StepStatus.open)
                        .values(status=StepStatus.done, completed_at=now,
                                form_data={"result": WITH_MASTER, "master": master.number})
                        .execution_options(synchronize_session=False))
        mark_stale(session, tickets=[member.id])  # its callback, say, is done now
        for clock in member.clocks:
            if clock.met_at is None:
                clock.met_at = max(met.get(clock.clock, now), member.received_at)
        session.add(Event(ticket_id=member.id, at=now, kind="closed_with_master", actor=by,
                          message=f"随主单{master.number}一并办结",
                          detail={"master": master.number}))
        enqueue(session, key=f"link:{master.id}:close:member:{member.id}:sms", channel="sms",
                recipient=member.caller_phone, template="closure_notice",
                context={"ticket_no": member.number}, now=now, ticket_id=member.id,
                to_customer=True)
        closed.append(member)
    if closed:
        numbers = [m.number for m in closed]
        session.add(Event(ticket_id=master.id, at=now, kind="members_closed", actor=by,
                          message=f"一并办结从单：{'、'.join(numbers)}", detail={"members": numbers}))
    session.flush()
    return closed


def _closed_here(session: Session, member: Ticket, now: datetime) -> bool:
    """Compare-and-set: the member closes only if it is still open in the database, so two
    people closing the same master's members at once close each member once (the second waits
    for the first's row and then finds it closed)."""
    closed = session.execute(update(Ticket).where(Ticket.id == member.id,
                                                  Ticket.status.in_(OPEN_STATUSES))
                             .values(status=TicketStatus.closed, closed_at=now))
    return closed.rowcount == 1
