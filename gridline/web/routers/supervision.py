"""督办: the deadlines the audit chases now and the outbox of the supervisor's scope, with a second
chance for a message the gateway refused."""

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse

from gridline.web.deps import CSRF, Db, Me, Site
from gridline.web.security import RowId
from models.audit.assessment import AuditStage
from models.core.errors import InputError
from models.messaging.outbox import OutboxStatus
from tasks.audit.queries import deadlines_at_risk
from tasks.messaging import queries as outbox
from tasks.messaging.outbox import retry

router = APIRouter()


@router.get("/supervise")
def supervise(request: Request, session: Db, me: Me, portal: Site):
    if not me.supervises:
        raise HTTPException(403, "督办页面仅向部门负责人、值班长和管理员开放。")
    size = portal.settings.portal.page_size
    at_risk = deadlines_at_risk(session, me, now=portal.clock(), policy=portal.settings.audit,
                                limit=size)
    return portal.page(request, "supervise.html", me, overdue=at_risk[AuditStage.overdue],
                       expiring=at_risk[AuditStage.about_to_expire],
                       states=outbox.states(session, me), outbox_states=list(OutboxStatus),
                       undelivered=outbox.undelivered(session, me, size))


@router.post("/outbox/{message_id}/retry", dependencies=CSRF)
def retry_message(request: Request, session: Db, me: Me, portal: Site, message_id: RowId):
    """A supervisor's second chance for a message the gateway refused (wrong number fixed,
    platform back): queued again now, with fresh attempts."""
    if not me.supervises:
        raise HTTPException(403, "仅部门负责人、值班长和管理员可重新发送消息。")
    if not outbox.visible_message(session, me, message_id):
        raise HTTPException(404, "消息不存在或不在您的督办范围内。")
    try:
        retry(session, message_id, now=portal.clock())
        request.session["flash"] = f"消息 #{message_id} 已重新排队，等待发送。"
    except InputError as exc:
        request.session["flash"] = f"消息 #{message_id}：{exc.zh}。"
    return RedirectResponse("/supervise#undelivered", status_code=303)
