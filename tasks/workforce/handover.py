"""Shift handover (数据交接): at a shift change the ending shift's unfinished items, and callbacks
nobody holds that fall due before the next change, pass to the agents now on duty, each of whom
gets a handover list through the outbox."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pendulum
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.core.enums import StepStatus
from models.org.organisation import Staff
from models.tickets.ticket import Event, Step
from models.workforce.config import WorkforceConfig
from models.workforce.tables import HandoverItem, RosterShift
from tasks.messaging.outbox import enqueue_many, messages_to


def neighbouring_changes(at: datetime, changes: list[time], timezone: str) -> tuple[datetime, datetime]:
    """The shift changes just before and just after `at` (a shift change itself)."""
    local = pendulum.instance(at).in_timezone(timezone)
    moments = sorted(
        pendulum.datetime(day.year, day.month, day.day, c.hour, c.minute, tz=timezone)
        for day in (local.subtract(days=1).date(), local.date(), local.add(days=1).date())
        for c in changes)
    before = max(m for m in moments if m < local)
    after = min(m for m in moments if m > local)
    return before.in_timezone("UTC"), after.in_timezone("UTC")


def latest_change(now: datetime, changes: list[time], timezone: str) -> datetime:
    """The most recent shift change at or before `now`."""
    before, _ = neighbouring_changes(now + timedelta(microseconds=1), changes, timezone)
    return before


@dataclass(frozen=True)
class Handover:
    change_at: datetime
    items: list[HandoverItem]
    receivers: list[Staff]


def _on_duty(session: Session, at: datetime, roles) -> list[Staff]:
    return list(session.scalars(
        select(Staff).join(RosterShift, RosterShift.staff_id == Staff.id)
        .where(RosterShift.start_at <= at, RosterShift.end_at > at, Staff.role.in_(roles))
        .order_by(Staff.code)))


def hand_over(session: Session, *, change_at: datetime, config: WorkforceConfig, timezone: str,
              now: datetime) -> Handover:
    previous, following = neighbouring_changes(change_at, config.handover_at, timezone)
    ending = set(session.scalars(select(RosterShift.staff_id).where(
        RosterShift.end_at > previous, RosterShift.end_at <= change_at)))
    receivers = [s for s in _on_duty(session, change_at, config.handover_roles)
                 if s.id not in ending]
    steps = session.scalars(
        select(Step).options(selectinload(Step.ticket))
        .where(Step.status == StepStatus.open, Step.ticket_id.is_not(None),
               Step.assignee_id.in_(ending)
               | (Step.assignee_id.is_(None) & Step.step_key.in_(config.callback_steps)
                  & (Step.due_at < following)))
        .order_by(Step.due_at, Step.id)).all()
    if not receivers:
        return Handover(change_at, [], [])
    items = []
    for n, step in enumerate(steps):  # earliest due first, dealt round the next shift's agents
        to = receivers[n % len(receivers)]
        kind = "callback" if step.step_key in config.callback_steps else "open_step"
        items.append(HandoverItem(shift_change_at=change_at, step=step, kind=kind,
                                  from_staff_id=step.assignee_id, to_staff_id=to.id))
        step.assignee_id = to.id
        session.add(Event(ticket_id=step.ticket_id, at=change_at, kind="handover", actor="系统",
                          actor_id=None, message=f"交接班：{step.step_key} 转交 {to.name}",
                          detail={"step_id": step.id, "to_staff": to.code}))
    session.add_all(items)
    session.flush()
    lists = []
    for person in receivers:
        mine = [i for i in items if i.to_staff_id == person.id]
        if not mine:
            continue
        context = {"name": person.name, "change_at": change_at, "items": [{
            "kind": "回访" if i.kind == "callback" else "待办", "ticket_no": i.step.ticket.number,
            "content": i.step.ticket.content, "due_at": i.step.due_at} for i in mine]}
        lists += messages_to(person, key=f"handover:{change_at.isoformat()}:{person.id}",
                             template="handover_list", context=context)
    enqueue_many(session, lists, now=now)
    return Handover(change_at, items, receivers)
