"""Logging in (every attempt booked by the limiter, per account and per address, before its
password is checked) and out (the server-side session ends)."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from gridline.web.auth import end_session, start_session
from gridline.web.deps import CSRF, Db, Posted, Site
from gridline.web.forms import form_text
from models.core.errors import InputError
from models.org.organisation import Staff
from models.org.passwords import MAX_LENGTH as MAX_PASSWORD
from tasks.org.passwords import hash_password, verify_password

router = APIRouter()
NO_SUCH_USER = hash_password("no such user")  # failed logins of unknown codes take as long
FIELDS = {"code": "工号", "password": "密码"}
MAX_TARGET = 2000  # characters of the page to return to


@router.get("/login")
def login_form(request: Request, portal: Site, next: str = "/inbox"):
    return portal.page(request, "login.html", next=next, code="", error="")


@router.post("/login", dependencies=CSRF)
def login(request: Request, session: Db, form: Posted, portal: Site):
    try:
        code = form_text(form, "code", Staff.code.type.length).strip()
        password = form_text(form, "password", MAX_PASSWORD)
        target = form_text(form, "next", MAX_TARGET)
    except InputError as exc:
        return portal.page(request, "login.html", status_code=422, next="/inbox", code="",
                           error=f"{FIELDS.get(exc.field, '表单')}{exc.zh}。")
    if not target.startswith("/") or target.startswith("//"):
        target = "/inbox"  # never an open redirect
    booked = portal.throttle.book(session, code, portal.client(request))
    if booked is None:
        return portal.page(request, "login.html", status_code=429, next=target, code=code,
                           error="登录失败次数过多，请稍后再试。")
    staff = session.scalar(select(Staff).where(Staff.code == code, Staff.active))
    valid = verify_password(staff.password_hash if staff else NO_SUCH_USER, password)
    if staff is None or not valid:  # the booked failure stays
        return portal.page(request, "login.html", status_code=401, next=target, code=code,
                           error="工号或密码错误。")
    portal.throttle.succeeded(session, code, booked)
    start_session(request, session, staff, portal.clock(), portal.settings.portal.session_hours)
    return RedirectResponse(target, status_code=303)


@router.post("/logout", dependencies=CSRF)
def logout(request: Request, session: Db, portal: Site):
    end_session(request, session, portal.clock())
    return RedirectResponse("/login", status_code=303)
