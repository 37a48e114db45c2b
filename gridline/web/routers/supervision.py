"""督办: the deadlines the audit chases now (filtered by unit, type, clock and responsible person,
paged), with 催办 and 转派 on each row, and the outbox of the supervisor's scope with each
message's text and a resend for one that failed or is stuck in 待发送."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from flows.story import follow
from gridline.web.deps import CSRF, Db, Me, Posted, Site
from gridline.web.forms import form_text
from gridline.web.render import Portal
from gridline.web.security import PageNo, RowId
from models.audit.assessment import AuditStage
from models.core.enums import TicketType
from models.core.errors import InputError
from models.messaging.outbox import OutboxStatus
from tasks.audit.queries import RiskQuery, deadlines_at_risk
from tasks.audit.supervision import MAX_NOTE, chase_ticket, handover_targets, reassign_step
from tasks.messaging import queries as outbox
from tasks.messaging.outbox import retry
from tasks.org.scope import Scope
from tasks.tickets.queries import regions_in_scope, visible_step

router = APIRouter()
MessagePage = Annotated[int, Query(alias="mpage", ge=1, le=1_000_000)]
RETURN = 2000  # characters of the list address a form returns to


def supervisor(me: Me) -> Scope:
    if not me.supervises:
        raise HTTPException(403, "督办页面仅向部门负责人、值班长和管理员开放。")
    return me


Supervisor = Annotated[Scope, Depends(supervisor)]


def _choice(enum, value: str):
    return enum(value) if value in enum.__members__ else None


def _back(form, default: str = "/supervise") -> str:
    """The page a form came from: a local address only (never an open redirect)."""
    try:
        target = form_text(form, "back", RETURN) or default
    except InputError:
        return default
    return target if target.startswith("/") and not target.startswith("//") else default


@router.get("/supervise")
def supervise(request: Request, session: Db, me: Supervisor, portal: Site, stage: str = "",
              unit: str = "", type: str = "", clock: str = "", responsible: str = "",
              status: str = "", page_no: PageNo = 1, message_page: MessagePage = 1):
    size, now = portal.settings.portal.page_size, portal.clock()
    wanted = RiskQuery(stage=_choice(AuditStage, stage), unit=unit.strip()[:32],
                       type=_choice(TicketType, type), clock=clock.strip()[:50],
                       responsible=int(responsible) if responsible.isdigit()
                       and len(responsible) < 18 else None)
    risks = deadlines_at_risk(session, me, now=now, policy=portal.settings.audit, wanted=wanted,
                              offset=(page_no - 1) * size, limit=size)
    message_status = _choice(OutboxStatus, status)
    messages = outbox.undelivered(session, me, now=now, status=message_status,
                                  offset=(message_page - 1) * size, limit=size)
    filters = {"stage": stage, "unit": unit, "type": type, "clock": clock,
               "responsible": responsible, "status": status}
    return portal.page(
        request, "supervise.html", me, title="督办", risks=risks, wanted=wanted,
        page_no=page_no, pages=max(1, -(-risks.total // size)), query=urlencode(filters),
        here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        units=regions_in_scope(session, me), types=list(TicketType), stages=list(AuditStage),
        states=outbox.states(session, me), outbox_states=list(OutboxStatus),
        message_status=message_status, messages=messages, message_page=message_page,
        message_pages=max(1, -(-messages.total // size)), may_resend=outbox.may_resend,
        stuck=outbox.stuck_count(session, me, now), max_note=MAX_NOTE)


@router.post("/supervise/chase", dependencies=CSRF)
def chase(request: Request, session: Db, me: Supervisor, form: Posted, portal: Site):
    """催办 from a row of the list: the SMS queued, the timeline written, back to the list."""
    back = _back(form)
    try:
        done = chase_ticket(session, me, form_text(form, "number", 32).strip(),
                            now=portal.clock(), note=form_text(form, "note", MAX_NOTE * 4))
    except InputError as exc:
        session.rollback()
        request.session["flash"] = f"催办未发送：{exc.zh}。"
        return RedirectResponse(back, status_code=303)
    session.commit()
    request.session["flash"] = (
        f"已催办工单 {done.ticket}：短信已排队发给{done.name}（{done.phone}）。" if done.queued
        else f"工单 {done.ticket} 刚刚已催办过{done.name}，未重复发送。")
    return RedirectResponse(back, status_code=303)


def reassign_page(request: Request, session: Session, me: Scope, portal: Portal, step,
                  back: str, values: dict | None = None, errors: dict | None = None,
                  status_code: int = 200):
    targets = handover_targets(session, me)
    return portal.page(request, "reassign.html", me, status_code=status_code, title="转派",
                       step=step, ticket=step.ticket, targets=targets, back=back,
                       step_name=portal.step_title(step.ticket.type, step.step_key),
                       values=values or {}, errors=errors or {}, max_note=MAX_NOTE)


def _open_step(session: Session, me: Scope, step_id: int):
    step = visible_step(session, me, step_id)
    if step is None:
        raise HTTPException(404)
    return step


@router.get("/steps/{step_id}/reassign")
def reassign_form(request: Request, session: Db, me: Supervisor, portal: Site, step_id: RowId,
                  back: str = "/supervise"):
    step = _open_step(session, me, step_id)
    return reassign_page(request, session, me, portal, step,
                         back if back.startswith("/") and not back.startswith("//") else "/")


@router.post("/steps/{step_id}/reassign", dependencies=CSRF)
def reassign(request: Request, session: Db, me: Supervisor, form: Posted, portal: Site,
             step_id: RowId):
    step = _open_step(session, me, step_id)
    values, back = {}, _back(form)
    try:
        for name in ("department", "staff", "reason"):
            values[name] = form_text(form, name, MAX_NOTE * 4, multiline=name == "reason").strip()
        reassign_step(session, me, step.id, department=values["department"],
                      staff=values["staff"], reason=values["reason"], now=portal.clock(),
                      title=portal.step_title(step.ticket.type, step.step_key))
    except InputError as exc:
        session.rollback()
        return reassign_page(request, session, me, portal, _open_step(session, me, step_id),
                             back, values, {exc.field: exc.zh}, 422)
    number, holder = step.ticket.number, step.department.name
    if step.assignee is not None:
        holder += f"（{step.assignee.name}）"
    session.commit()
    follow(number)
    request.session["flash"] = f"工单 {number} 的环节已转派给{holder}。"
    return RedirectResponse(back, status_code=303)


@router.post("/outbox/{message_id}/retry", dependencies=CSRF)
def retry_message(request: Request, session: Db, me: Supervisor, form: Posted, portal: Site,
                  message_id: RowId):
    """A supervisor's second chance for a message the gateway refused (wrong number fixed,
    platform back), or one stuck in 待发送: queued again now, with fresh attempts."""
    if not outbox.visible_message(session, me, message_id):
        raise HTTPException(404, "消息不存在或不在您的督办范围内。")
    now = portal.clock()
    try:
        retry(session, message_id, now=now, stuck_before=outbox.stuck_before(now))
        request.session["flash"] = f"消息 #{message_id} 已重新排队，等待发送。"
    except InputError as exc:
        request.session["flash"] = f"消息 #{message_id}：{exc.zh}。"
    return RedirectResponse(_back(form) + "#messages", status_code=303)
