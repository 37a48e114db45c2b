"""Admin pages for the centre's other systems: API keys (made with the token shown once, revoked)
and webhook subscriptions with their delivery log (each attempt, a second chance for a dead one).
Admins only; an admin manages the keys of their own units, and webhooks (which carry every city's
events) are the top unit's admins' business."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from gridline.web.deps import CSRF, Db, Me, Posted, Site
from gridline.web.forms import form_text
from gridline.web.render import Portal
from gridline.web.security import RowId
from models.core.enums import StaffRole
from models.core.errors import InputError
from models.integrations.tables import EVENTS, SCOPES, ApiKey
from tasks.integrations import webhooks
from tasks.integrations.api_keys import add_key, list_keys, revoke_key
from tasks.messaging.outbox import retry
from tasks.org.scope import Scope
from tasks.tickets.queries import regions_in_scope
from tasks.tickets.store import find_region

router = APIRouter(prefix="/admin")


def admin(me: Me) -> Scope:
    if me.staff.role != StaffRole.admin:
        raise HTTPException(403, "仅管理员可以管理接口密钥和 Webhook。")
    return me


def top_admin(me: Annotated[Scope, Depends(admin)]) -> Scope:
    if me.staff.department.region.parent_id is not None:
        raise HTTPException(403, "Webhook 推送全省的工单事件，仅最上级单位的管理员可以管理。")
    return me


Admin = Annotated[Scope, Depends(admin)]
TopAdmin = Annotated[Scope, Depends(top_admin)]


def keys_page(request: Request, portal: Portal, session: Session, me: Scope, *,
              token: str = "", errors: dict | None = None, status_code: int = 200):
    keys = [k for k in list_keys(session) if k.region_id in me.region_ids]
    return portal.page(request, "admin_api_keys.html", me, status_code=status_code, keys=keys,
                       scopes=SCOPES, regions=regions_in_scope(session, me), token=token,
                       errors=errors or {})


@router.get("/api-keys")
def api_keys(request: Request, session: Db, me: Admin, portal: Site):
    return keys_page(request, portal, session, me)


@router.post("/api-keys", dependencies=CSRF)
def create_key(request: Request, session: Db, me: Admin, portal: Site, form: Posted):
    try:
        unit = form_text(form, "unit", 32)
        if find_region(session, unit).id not in me.region_ids:
            raise InputError("unit", "不在您的管辖范围内", "unit outside your scope")
        key, token = add_key(session, name=form_text(form, "name", 100),
                             scopes=[s for s in form.getlist("scopes") if isinstance(s, str)],
                             unit=unit, now=portal.clock())
    except InputError as exc:
        session.rollback()
        return keys_page(request, portal, session, me, errors={exc.field: exc.zh},
                         status_code=422)
    session.commit()
    request.session["flash"] = f"已创建密钥“{key.name}”。密钥只显示这一次，请立即复制保存。"
    return keys_page(request, portal, session, me, token=token)


@router.post("/api-keys/{key_id}/revoke", dependencies=CSRF)
def revoke(request: Request, session: Db, me: Admin, portal: Site, key_id: RowId):
    key = session.get(ApiKey, key_id)
    if key is None or key.region_id not in me.region_ids:
        raise HTTPException(404)
    revoke_key(session, str(key_id), now=portal.clock())
    request.session["flash"] = f"密钥“{key.name}”已吊销。"
    return RedirectResponse("/admin/api-keys", status_code=303)


def hooks_page(request: Request, portal: Portal, session: Session, me: Scope, *,
               secret: str = "", errors: dict | None = None, status_code: int = 200):
    return portal.page(request, "admin_webhooks.html", me, status_code=status_code,
                       subscriptions=webhooks.subscriptions(session), events=EVENTS,
                       secret=secret, errors=errors or {})


@router.get("/webhooks")
def webhook_list(request: Request, session: Db, me: TopAdmin, portal: Site):
    return hooks_page(request, portal, session, me)


@router.post("/webhooks", dependencies=CSRF)
def create_webhook(request: Request, session: Db, me: TopAdmin, portal: Site, form: Posted):
    try:
        subscription = webhooks.add_subscription(
            session, name=form_text(form, "name", 100), url=form_text(form, "url", 200),
            events=[e for e in form.getlist("events") if isinstance(e, str)], now=portal.clock())
    except InputError as exc:
        session.rollback()
        return hooks_page(request, portal, session, me, errors={exc.field: exc.zh},
                          status_code=422)
    session.commit()
    request.session["flash"] = f"已创建订阅“{subscription.name}”。签名密钥只显示这一次，请交给接收方。"
    return hooks_page(request, portal, session, me, secret=subscription.secret)


@router.post("/webhooks/{subscription_id}/active", dependencies=CSRF)
def toggle(request: Request, session: Db, me: TopAdmin, portal: Site, subscription_id: RowId,
           form: Posted):
    try:
        subscription = webhooks.set_active(session, subscription_id, form.get("active") == "1")
    except InputError:
        raise HTTPException(404) from None
    request.session["flash"] = f"订阅“{subscription.name}”已{'启用' if subscription.active else '停用'}。"
    return RedirectResponse("/admin/webhooks", status_code=303)


@router.get("/webhooks/{subscription_id}")
def delivery_log(request: Request, session: Db, me: TopAdmin, portal: Site,
                 subscription_id: RowId):
    subscription = next((s for s in webhooks.subscriptions(session)
                         if s.id == subscription_id), None)
    if subscription is None:
        raise HTTPException(404)
    return portal.page(request, "admin_webhook_log.html", me, subscription=subscription,
                       rows=webhooks.deliveries(session, subscription_id))


@router.post("/webhooks/{subscription_id}/deliveries/{message_id}/retry", dependencies=CSRF)
def retry_delivery(request: Request, session: Db, me: TopAdmin, portal: Site,
                   subscription_id: RowId, message_id: RowId):
    if not any(row[0].id == message_id for row in webhooks.deliveries(session, subscription_id)):
        raise HTTPException(404)
    try:
        retry(session, message_id, now=portal.clock())
        request.session["flash"] = f"推送 #{message_id} 已重新排队。"
    except InputError as exc:
        request.session["flash"] = f"推送 #{message_id}：{exc.zh}。"
    return RedirectResponse(f"/admin/webhooks/{subscription_id}", status_code=303)
