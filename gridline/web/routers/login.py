"""Logging in (throttled per account and per address) and out."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from gridline.web.auth import LoginThrottle, start_session
from gridline.web.deps import CSRF, Db, Posted, Site
from models.org.organisation import Staff
from tasks.org.passwords import hash_password, verify_password

router = APIRouter()
NO_SUCH_USER = hash_password("no such user")  # failed logins of unknown codes take as long


@router.get("/login")
def login_form(request: Request, portal: Site, next: str = "/inbox"):
    return portal.page(request, "login.html", next=next, code="", error="")


@router.post("/login", dependencies=CSRF)
def login(request: Request, session: Db, form: Posted, portal: Site):
    config = portal.settings.portal
    throttle = LoginThrottle(config.login_max_failures, config.login_max_failures_per_address,
                             config.login_window_seconds, portal.clock)
    code, password = str(form.get("code", "")).strip(), str(form.get("password", ""))
    target = str(form.get("next", "/inbox"))
    if not target.startswith("/") or target.startswith("//"):
        target = "/inbox"  # never an open redirect
    address = request.client.host if request.client else ""
    if throttle.blocked(session, code, address):
        return portal.page(request, "login.html", status_code=429, next=target, code=code,
                           error="登录失败次数过多，请稍后再试。")
    staff = session.scalar(select(Staff).where(Staff.code == code))
    valid = verify_password(staff.password_hash if staff else NO_SUCH_USER, password)
    if staff is None or not valid:
        throttle.failed(session, code, address)
        return portal.page(request, "login.html", status_code=401, next=target, code=code,
                           error="工号或密码错误。")
    throttle.succeeded(session, code)
    start_session(request, staff)
    return RedirectResponse(target, status_code=303)


@router.post("/logout", dependencies=CSRF)
def logout(request: Request):
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
