"""机构与人员: for admins, the organisation tree and the staff of their own unit and below;
deactivating a staff member and resetting a password (a set-up link goes to the person)."""

from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse

from gridline.web.deps import CSRF, Db, Me, Site
from models.core.enums import StaffRole
from models.core.errors import InputError
from tasks.org.admin import deactivate, org_tree, reset_password, staff_page
from tasks.org.scope import Scope

router = APIRouter()
MAX_SEARCH = 50


def _admin(me: Scope) -> None:
    if me.staff.role != StaffRole.admin:
        raise HTTPException(403, "机构与人员页面仅向管理员开放。")


@router.get("/admin/org")
def organisation(request: Request, session: Db, me: Me, portal: Site):
    _admin(me)
    return portal.page(request, "admin_org.html", me, title="机构", tree=org_tree(session, me))


@router.get("/admin/staff")
def staff(request: Request, session: Db, me: Me, portal: Site,
          q: str = Query("", max_length=MAX_SEARCH),
          department: str = Query("", max_length=MAX_SEARCH),
          page: int = Query(1, ge=1, le=100000)):
    _admin(me)
    size = portal.settings.portal.page_size
    listing = staff_page(session, me, search=q.strip(), department=department, page=page,
                         size=size)
    return portal.page(request, "admin_staff.html", me, title="人员", listing=listing, q=q,
                       department=department,
                       page=page, pages=max(1, -(-listing.total // size)))


def _act(request: Request, action, session, me: Scope, code: str, portal, said: str):
    _admin(me)
    try:
        person = action(session, me, code, portal.clock())
        request.session["flash"] = f"{person.name}（{person.code}）{said}"
    except InputError as exc:
        session.rollback()
        request.session["flash"] = f"{code}：{exc.zh}。"
    return RedirectResponse(f"/admin/staff?q={quote(code)}", status_code=303)


@router.post("/admin/staff/{code}/deactivate", dependencies=CSRF)
def deactivate_staff(request: Request, session: Db, me: Me, portal: Site, code: str):
    return _act(request, deactivate, session, me, code, portal,
                "已停用：不能再登录，所有登录已退出，历史记录保留。")


@router.post("/admin/staff/{code}/reset", dependencies=CSRF)
def reset_staff_password(request: Request, session: Db, me: Me, portal: Site, code: str):
    return _act(request, reset_password, session, me, code, portal,
                "的密码已重置：原密码失效，设置密码链接已通过短信/邮件发送。")
