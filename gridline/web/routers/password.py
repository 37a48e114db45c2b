"""改密码: a signed-in person changes their own password. The current one is asked for (and
counted by the login limiter, so a borrowed session cannot guess it); every other session of
theirs ends, this browser gets a new one."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from gridline.web.auth import start_session
from gridline.web.deps import CSRF, Db, Me, Posted, Site
from gridline.web.forms import form_text
from gridline.web.render import Portal
from models.core.errors import InputError
from models.org.passwords import MAX_LENGTH, MIN_LENGTH
from tasks.org.passwords import verify_password
from tasks.org.scope import Scope
from tasks.org.sessions import set_password

router = APIRouter()
FIELDS = ("current", "new", "repeat")


def password_page(request: Request, portal: Portal, me: Scope,
                  errors: dict[str, str] | None = None, status_code: int = 200):
    return portal.page(request, "password.html", me, status_code=status_code, title="改密码",
                       errors=errors or {}, min_length=MIN_LENGTH)


@router.get("/password")
def password_form(request: Request, me: Me, portal: Site):
    return password_page(request, portal, me)


@router.post("/password", dependencies=CSRF)
def change_password(request: Request, session: Db, me: Me, form: Posted, portal: Site):
    now = portal.clock()
    try:
        current, new, repeat = (form_text(form, name, MAX_LENGTH) for name in FIELDS)
    except InputError as exc:
        return password_page(request, portal, me, {exc.field: exc.zh}, 422)
    staff = me.staff
    booked = portal.throttle.book(session, staff.code, portal.client(request))
    if booked is None:
        return password_page(request, portal, me, {"current": "密码错误次数过多，请稍后再试。"}, 429)
    if not verify_password(staff.password_hash, current):
        return password_page(request, portal, me, {"current": "当前密码错误"}, 422)
    portal.throttle.succeeded(session, staff.code, booked)
    if new != repeat:
        return password_page(request, portal, me, {"repeat": "两次输入的新密码不一致"}, 422)
    try:
        set_password(session, staff, new, now, field="new")
    except InputError as exc:
        session.rollback()
        return password_page(request, portal, me, {exc.field: exc.zh}, 422)
    start_session(request, session, staff, now, portal.settings.portal.session_hours)
    request.session["flash"] = "密码已修改；您在其他设备上的登录已全部退出。"
    return RedirectResponse("/inbox", status_code=303)
