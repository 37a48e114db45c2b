"""督办 that acts: chase (催办) the person answering for a ticket with an SMS, and hand an open step
to another department or person (转派). One function per action, shared by the portal and the
CLI; each checks the supervisor's rights and scope, writes the timeline, and commits nothing."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.enums import OPEN_STATUSES, StaffRole, StepStatus
from models.core.errors import InputError
from models.core.formatting import mask_phone
from models.messaging.outbox import OutboxMessage
from models.org.organisation import Department, Staff
from models.tickets.ticket import Event, Step, Ticket
from tasks.messaging.outbox import enqueue
from tasks.org.scope import Scope
from tasks.org.units import first_staff

MAX_NOTE = 200  # characters of a chase's note or a reassignment's reason


def _supervisor(scope: Scope) -> Staff:
    if not scope.supervises:
        raise InputError("by", "仅部门负责人、值班长和管理员可以督办",
                         f"{scope.staff.code} is a {scope.staff.role.value}, not a supervisor")
    return scope.staff


def _note(text: str, field: str, required: bool) -> str:
    text = (text or "").strip()
    if required and not text:
        raise InputError(field, "必填", f"{field} is required")
    if len(text) > MAX_NOTE:
        raise InputError(field, f"不能超过{MAX_NOTE}字", f"{field}: at most {MAX_NOTE} characters")
    return text


def _visible_ticket(session: Session, scope: Scope, number: str) -> Ticket:
    ticket = session.scalar(select(Ticket).where(Ticket.number == number, scope.sees_ticket()))
    if ticket is None:
        raise InputError("number", "工单不存在或不在您的督办范围内",
                         f"no ticket {number!r} in {scope.staff.code}'s scope")
    return ticket


def holder_of(session: Session, step: Step) -> Staff | None:
    """Who answers for an open step, as the audit finds them: its assignee, else the head of its
    department."""
    return step.assignee or first_staff(session, step.department_id, StaffRole.head)


@dataclass(frozen=True)
class Chased:
    ticket: str
    name: str
    phone: str  # masked
    queued: bool  # False: the same person was chased for this ticket this minute already


def chase_ticket(session: Session, scope: Scope, number: str, *, now: datetime,
                 note: str = "") -> Chased:
    """催办: an SMS through the outbox to whoever answers for the ticket now (the holder of its
    open step; for a ticket watched from the marketing system, the person it names), recorded in
    the timeline. A second chase of one person in the same minute queues nothing more."""
    me = _supervisor(scope)
    note = _note(note, "note", required=False)
    ticket = _visible_ticket(session, scope, number)
    if ticket.status not in OPEN_STATUSES:
        raise InputError("number", "工单已办结，无需催办", f"ticket {number} is closed")
    step = session.scalar(select(Step).where(Step.ticket_id == ticket.id,
                                             Step.status == StepStatus.open)
                          .order_by(Step.opened_at.desc(), Step.id.desc()))
    person = holder_of(session, step) if step is not None else None
    name, phone = (person.name, person.phone) if person else (
        ticket.responsible_name or "", ticket.responsible_phone)
    if not phone:
        raise InputError("number", "该工单当前没有可催办的责任人",
                         f"ticket {number} has nobody responsible with a phone")
    department = step.department.name if step is not None and step.department else ""
    running = [c.due_at for c in ticket.clocks if c.met_at is None]
    deadline = (step.due_at if step is not None else None) or min(running, default=None)
    context = {"name": me.name, "ticket_no": ticket.number, "ticket_type": ticket.type.label,
               "content": ticket.content, "deadline": deadline or now,
               "responsible": name, "department": department, "advice": note}
    key = f"chase:{ticket.id}:{phone}:{now:%Y%m%d%H%M}"
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return Chased(ticket.number, name, mask_phone(phone), queued=False)
    message = enqueue(session, key=key, channel="sms", recipient=phone, template="chase",
                      context=context, now=now, ticket_id=ticket.id,
                      step_id=step.id if step is not None else None, urgent=True)
    said = f"催办{name}{f'（{department}）' if department else ''}：短信提醒尽快处理"
    session.add(Event(ticket=ticket, at=now, kind="chased", actor_id=me.id, actor=me.name,
                      message=said + (f"。督办意见：{note}" if note else ""),
                      detail={"key": key, "to": name, "phone": mask_phone(phone),
                              "outbox_id": message.id}))
    return Chased(ticket.number, name, mask_phone(phone), queued=True)


@dataclass(frozen=True)
class Targets:
    """Where a supervisor may hand a step: the departments of their scope and their staff."""

    departments: list[Department]
    staff: list[Staff]


def handover_targets(session: Session, scope: Scope) -> Targets:
    """A head hands work within their own department; a duty supervisor or an admin to any
    department of their regions (and the regions under them)."""
    if scope.staff.role == StaffRole.head:
        where = Department.id == scope.staff.department_id
    else:
        where = Department.region_id.in_(scope.region_ids)
    departments = list(session.scalars(select(Department).where(where)
                                       .order_by(Department.code)))
    staff = list(session.scalars(
        select(Staff).join(Department, Staff.department_id == Department.id)
        .where(where, Staff.active, Staff.role.in_((StaffRole.handler, StaffRole.head,
                                                     StaffRole.agent, StaffRole.supervisor)))
        .order_by(Department.code, Staff.code)))
    return Targets(departments, staff)


def reassign_step(session: Session, scope: Scope, step_id: int, *, department: str = "",
                  staff: str = "", reason: str, now: datetime, title: str = "") -> Step:
    """转派: the open step to another department (anyone there may take it) or to one person (the
    step goes to their department, assigned to them), both within the supervisor's scope;
    recorded in the timeline with the reason. `title` names the step in the timeline."""
    me = _supervisor(scope)
    reason = _note(reason, "reason", required=True)
    step = session.scalar(select(Step).join(Ticket, Step.ticket_id == Ticket.id)
                          .where(Step.id == step_id, scope.sees_ticket()))
    if step is None:
        raise InputError("step", "环节不存在或不在您的督办范围内", f"no step {step_id} in scope")
    if step.status != StepStatus.open:
        raise InputError("step", f"该环节{step.status.label}，不能转派", f"step {step_id} is not open")
    targets = handover_targets(session, scope)
    person = None
    if staff:
        person = next((s for s in targets.staff if s.code == staff), None)
        if person is None:
            raise InputError("staff", "接收人不存在或不在您的督办范围内", f"no staff {staff!r} in scope")
        new_department = person.department
    elif department:
        new_department = next((d for d in targets.departments if d.code == department), None)
        if new_department is None:
            raise InputError("department", "接收部门不存在或不在您的督办范围内",
                             f"no department {department!r} in scope")
    else:
        raise InputError("department", "请选择接收部门或接收人", "give a department or a person")
    if new_department.id == step.department_id and (person is None or person.id == step.assignee_id):
        raise InputError("department", "该环节已由此部门（人）办理", "the step is held there already")
    before = step.department.name if step.department else "未指定"
    if step.assignee is not None:
        before += f"（{step.assignee.name}）"
    after = new_department.name + (f"（{person.name}）" if person else "")
    step.department, step.assignee = new_department, person
    session.add(Event(ticket=step.ticket, at=now, kind="reassigned", actor_id=me.id,
                      actor=me.name,
                      message=f"转派“{title or step.step_key}”：{before} → {after}。原因：{reason}",
                      detail={"step": step.step_key, "attempt": step.attempt,
                              "department": new_department.code,
                              "staff": person.code if person else None}))
    return step
