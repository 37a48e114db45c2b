"""改密码: a signed-in person changes their own password. The current one is asked for (and
counted by the login limiter, so a borrowed session cannot guess it); every other session of
theirs ends, this browser gets a new one."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from gridline.web.auth import LoginThrottle, client_address, start_session, trusted_networks
from gridline.web.deps import CSRF, Db, Me, Posted, render
from gridline.web.forms import form_text
from models.core.errors import InputError
from models.org.passwords import MAX_LENGTH, MIN_LENGTH
from tasks.org.passwords import verify_password
from tasks.org.sessions import set_password

router = APIRouter()
FIELDS = ("current", "new", "repeat")


def password_page(request: Request, me, errors: dict[str, str] | None = None,
                  status_code: int = 200):
    return render(request, "password.html", me, status_code=status_code, title="改密码",
                  errors=errors or {}, min_length=MIN_LENGTH)


@router.get("/password")
def password_form(request: Request, me: Me):
    return password_page(request, me)


@router.post("/password", dependencies=CSRF)
def change_password(request: Request, session: Db, me: Me, form: Posted):
    state = request.app.state
    config, now = state.settings.portal, state.clock()
    try:
        current, new, repeat = (form_text(form, name, MAX_LENGTH) for name in FIELDS)
    except InputError as exc:
        return password_page(request, me, {exc.field: exc.zh}, 422)
    throttle = LoginThrottle(config.login_max_failures, config.login_max_failures_per_address,
                             config.login_window_seconds, state.clock)
    staff = me.staff
    booked = throttle.book(session, staff.code,
                           client_address(request, trusted_networks(config.trusted_proxies)))
    if booked is None:
        return password_page(request, me, {"current": "密码错误次数过多，请稍后再试。"}, 429)
    if not verify_password(staff.password_hash, current):
        return password_page(request, me, {"current": "当前密码错误"}, 422)
    throttle.succeeded(session, staff.code, booked)
    if new != repeat:
        return password_page(request, me, {"repeat": "两次输入的新密码不一致"}, 422)
    try:
        set_password(session, staff, new, now, field="new")
    except InputError as exc:
        session.rollback()
        return password_page(request, me, {exc.field: exc.zh}, 422)
    start_session(request, session, staff, now, config.session_hours)
    request.session["flash"] = "密码已修改；您在其他设备上的登录已全部退出。"
    return RedirectResponse("/inbox", status_code=303)
