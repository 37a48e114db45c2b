"""A department's inbox, a ticket's page (the caller's phone masked) and the recorded reveal of the
full number for those who call back."""

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from flows.lifecycle import lifecycle_of
from flows.links import close_members_with
from gridline.web.deps import CSRF, Db, Me, Posted, Site
from gridline.web.forms import form_text
from gridline.web.render import Portal
from gridline.web.security import PageNo
from models.core.enums import StepStatus, TicketStatus, TicketType
from models.core.errors import InputError
from models.tickets.diagram import svg
from models.tickets.links import LinkKind
from models.tickets.ticket import Ticket
from tasks.cases.pages import case_spec
from tasks.cases.store import case_inbox
from tasks.cases.subjects import subject_of
from tasks.knowledge import finding as knowledge
from tasks.messaging.queries import messages_of
from tasks.org.scope import Scope
from tasks.tickets import links, queries
from tasks.tickets.store import record_phone_reveal

router = APIRouter()


@router.get("/")
def home():
    return RedirectResponse("/inbox", status_code=303)


@router.get("/inbox")
def inbox(request: Request, session: Db, me: Me, portal: Site, type: str = "",
          status: str = "open", page_no: PageNo = 1):
    ticket_type = TicketType(type) if type in TicketType.__members__ else None
    step_status = StepStatus(status) if status in StepStatus.__members__ else StepStatus.open
    size = portal.settings.portal.page_size
    rows, total = queries.inbox(session, me.staff.department_id, status=step_status,
                                ticket_type=ticket_type, offset=(page_no - 1) * size, limit=size)
    return portal.page(request, "inbox.html", me, rows=rows, total=total, page_no=page_no,
                       pages=max(1, -(-total // size)), type=ticket_type, status=step_status,
                       types=list(TicketType), statuses=list(StepStatus),
                       cases=internal_steps(session, me.staff.department_id))


def internal_steps(session: Session, department_id: int) -> list[dict]:
    """内部流程: the department's open case steps, each with its page's title and its link."""
    rows = []
    for case, step in case_inbox(session, department_id):
        link = subject_of(case.kind).link
        rows.append({"number": case.number, "title": case.title, "due_at": step.due_at,
                     "step": case_spec(session, case).step(step.step_key).title,
                     "href": link(session, case) if link else None})
    return rows


def visible_ticket(session: Session, me: Scope, number: str) -> Ticket:
    ticket = queries.ticket_page(session, me, number)
    if ticket is None:
        raise HTTPException(404)
    return ticket


def show_ticket(request: Request, session: Session, me: Scope, portal: Portal, ticket: Ticket,
                revealed: str = ""):
    config = portal.settings
    prefect_ui = config.portal.prefect_ui_url or f"http://127.0.0.1:{config.prefect_port}"
    run_url = f"{prefect_ui}/runs/flow-run/{ticket.flow_run_id}" if ticket.flow_run_id else None
    return portal.page(request, "ticket.html", me, ticket=ticket, run_url=run_url,
                       messages=messages_of(session, ticket.id), revealed=revealed,
                       diagram=diagram(session, ticket),
                       script_then=knowledge.script_in_force(session, ticket),
                       scripts_used=knowledge.used_in(session, ticket),
                       master=links.master_of(session, ticket.id),
                       members=links.members_of(session, ticket.id), link_kinds=list(LinkKind),
                       closes_members=me.calls_back,
                       suggested=links.suggestions(session, ticket, also=(me.sees_ticket(),))
                       if me.calls_back and ticket.status != TicketStatus.closed else [])


def diagram(session: Session, ticket: Ticket) -> Markup:
    """The ticket's lifecycle (the version it runs on) as SVG: its open step marked, steps done
    shaded. Drawn here, escaped by the drawing: no script, nothing fetched."""
    current = next((s.step_key for s in reversed(ticket.steps) if s.status == StepStatus.open),
                   None)
    done = frozenset(s.step_key for s in ticket.steps if s.status != StepStatus.open)
    return Markup(svg(lifecycle_of(session, ticket), current, done))  # noqa: S704


@router.get("/tickets/{number}")
def ticket_page(request: Request, session: Db, me: Me, portal: Site, number: str):
    return show_ticket(request, session, me, portal, visible_ticket(session, me, number))


@router.post("/tickets/{number}/phone", dependencies=CSRF)
def reveal_phone(request: Request, session: Db, me: Me, portal: Site, number: str):
    """The full number shown once, in this response only, and recorded in the timeline."""
    ticket = visible_ticket(session, me, number)
    if not portal.may_call_back(me, ticket):
        raise HTTPException(403, "只有坐席、值班长、管理员和需联系客户的环节办理人可以查看完整号码。")
    record_phone_reveal(session, ticket, me.staff, portal.clock())
    session.commit()
    response = show_ticket(request, session, me, portal, visible_ticket(session, me, number),
                           revealed=ticket.caller_phone)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/tickets/{number}/close-members", dependencies=CSRF)
def close_members(request: Request, session: Db, me: Me, number: str):
    """一并办结从单: the master's open members close now, each customer told once."""
    if not me.calls_back:
        raise HTTPException(403, "只有坐席、值班长和管理员可以办结从单。")
    number, by = visible_ticket(session, me, number).number, me.staff.code
    session.rollback()  # the members close in their own transaction
    try:
        closed = close_members_with(number, by)
        request.session["flash"] = (f"已一并办结从单：{'、'.join(closed)}。" if closed
                                    else "没有未办结的从单。")
    except InputError as exc:
        request.session["flash"] = f"未能办结从单：{exc.zh}。"
    return RedirectResponse(f"/tickets/{number}", status_code=303)


@router.post("/tickets/{number}/links", dependencies=CSRF)
def confirm_link(request: Request, session: Db, me: Me, form: Posted, portal: Site, number: str):
    """A person confirms a suggested link: this ticket becomes the member of `master` (or, when
    the form says so, the master of `member`)."""
    if not me.calls_back:
        raise HTTPException(403, "只有坐席、值班长和管理员可以关联工单。")
    ticket = visible_ticket(session, me, number)
    try:
        kind = form_text(form, "kind", 32)
        if kind not in LinkKind.__members__:
            raise InputError("kind", "请选择关联类型", f"unknown link kind {kind!r}")
        master_no, member_no = form_text(form, "master", 32), form_text(form, "member", 32)
        master = visible_ticket(session, me, master_no) if master_no else ticket
        member = visible_ticket(session, me, member_no) if member_no else ticket
        links.link(session, master, member, LinkKind(kind), by=me.staff.code, now=portal.clock())
        request.session["flash"] = f"已关联：工单{member.number}为{master.number}的从单。"
    except InputError as exc:
        session.rollback()
        request.session["flash"] = f"未关联：{exc.zh}。"
    return RedirectResponse(f"/tickets/{number}", status_code=303)
