"""A complaint at a chosen point of its day, written as its lifecycle would have left it: the
steps done before (with what each form said) and the one open now. For the portal tests of the
step page's context, 督办 and search, which need no run to read."""

from datetime import datetime, timedelta

from sqlalchemy import select

from gridline.web.app import create_app
from models.core.enums import StepStatus, TicketStatus, TicketType
from models.org.organisation import Department, Staff
from models.tickets.ticket import Step, Ticket, TicketClock
from tasks.core.db import session_scope
from tasks.core.settings import get_settings

REPLY = "已核实，对抄表员批评教育并向客户致歉"
REFUSAL = "该户不属本部门辖区，请转县供电服务中心"
OPINION = "答复未说明整改措施，请补充"
DEPARTMENT = "D3202-marketing"  # 无锡市供电公司营销部
CENTRE = "D32-CC"

# (step key, form, department, form data) in the order a complaint walks them.
CONTACTED = ("contact", "contact_customer", CENTRE, {"result": "转责任部门", "note": "已联系客户"})
REPLIED = ("handle", "department_reply", DEPARTMENT, {"result": "已处理", "reply_text": REPLY})
REFUSED = ("handle", "department_reply", DEPARTMENT, {"result": "退单", "reply_text": REFUSAL})
RETURNED = ("review", "centre_review", CENTRE, {"result": "退回", "opinion": OPINION})
REDISPATCHED = ("redispatch", "redispatch", CENTRE, {"department": DEPARTMENT, "note": "按职责转派"})
STAGES = {
    "review": ([CONTACTED, REPLIED], ("review", "centre_review", CENTRE)),
    "redispatch": ([CONTACTED, REFUSED], ("redispatch", "redispatch", CENTRE)),
    "handle_again": ([CONTACTED, REPLIED, RETURNED], ("handle", "department_reply", DEPARTMENT)),
    "handle": ([CONTACTED], ("handle", "department_reply", DEPARTMENT)),
    "redispatched": ([CONTACTED, REFUSED, REDISPATCHED], ("handle", "department_reply", DEPARTMENT)),
}


def complaint_at(url: str, stage: str, now: datetime, *, region: str = "320213",
                 due_in: timedelta = timedelta(hours=3), warn_minutes: int = 60) -> tuple[str, int]:
    """(ticket number, open step id): a ticket of `region` made a complaint waiting at `stage`,
    its reply clock running (due in `due_in`) and its open step due then."""
    done, (key, form, department) = STAGES[stage]
    with session_scope(url) as session:
        ticket = session.scalars(
            select(Ticket).where(Ticket.region.has(code=region), ~Ticket.steps.any(),
                                 Ticket.type != TicketType.fault_repair)
            .order_by(Ticket.id)).first()
        number = ticket.number
        ticket.type, ticket.status = TicketType.complaint, TicketStatus.in_progress
        ticket.caller_phone = "13812340000"
        departments = {d.code: d for d in session.scalars(select(Department))}
        people = {s.department_id: s for s in session.scalars(
            select(Staff).order_by(Staff.id.desc()))}  # one person per department
        attempts: dict[str, int] = {}
        at = now - timedelta(hours=len(done) + 1)
        for step_key, step_form, code, data in done:
            attempts[step_key] = attempts.get(step_key, 0) + 1
            session.add(Step(ticket=ticket, step_key=step_key, attempt=attempts[step_key],
                             form=step_form, department=departments[code],
                             status=StepStatus.done, opened_at=at, due_at=None,
                             completed_at=at + timedelta(minutes=30), form_data=data,
                             completed_by=people[departments[code].id]))
            at += timedelta(hours=1)
        due = now + due_in
        ticket.clocks.append(TicketClock(clock="test_reply", label="处理答复", due_at=due,
                                         warn_minutes=warn_minutes))
        step = Step(ticket=ticket, step_key=key, attempt=attempts.get(key, 0) + 1, form=form,
                    department=departments[department], status=StepStatus.open, opened_at=now,
                    due_at=due)
        session.add(step)
        session.flush()
        return number, step.id


def fixed_clock_app(now: datetime):
    """The portal with its clock stopped at `now`: a page and its export read the same time."""
    return create_app(get_settings(), clock=lambda: now)
