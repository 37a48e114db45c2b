"""设置密码: a new staff member (or one an admin reset) opens the one-time link sent to them and
chooses their own password; the link is used up, and they log in."""

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse

from gridline.web.deps import CSRF, Db, Posted, Site
from gridline.web.forms import form_text
from models.core.errors import InputError
from models.org.passwords import MAX_LENGTH, MIN_LENGTH
from tasks.org.setup_links import redeem_setup, setup_staff

router = APIRouter()
Token = Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


def _page(request: Request, portal, token: str, staff=None, errors=None, status_code=200):
    return portal.page(request, "password_setup.html", status_code=status_code, title="设置密码",
                       token=token, person=staff, errors=errors or {}, min_length=MIN_LENGTH)


@router.get("/password/setup/{token}")
def setup_form(request: Request, session: Db, portal: Site, token: str = Token):
    try:
        staff = setup_staff(session, token, portal.clock())
    except InputError as exc:
        return _page(request, portal, token, errors={"token": exc.zh}, status_code=410)
    return _page(request, portal, token, staff)


@router.post("/password/setup/{token}", dependencies=CSRF)
def setup_password(request: Request, session: Db, form: Posted, portal: Site,
                   token: str = Token):
    now = portal.clock()
    try:
        staff = setup_staff(session, token, now)
    except InputError as exc:
        return _page(request, portal, token, errors={"token": exc.zh}, status_code=410)
    try:
        new, repeat = (form_text(form, name, MAX_LENGTH) for name in ("new", "repeat"))
        if new != repeat:
            raise InputError("repeat", "两次输入的新密码不一致", "the passwords differ")
        redeem_setup(session, token, new, now)
    except InputError as exc:
        session.rollback()
        return _page(request, portal, token, staff, {exc.field: exc.zh}, 422)
    request.session["flash"] = f"{staff.name}，密码已设置，请用工号 {staff.code} 登录。"
    return RedirectResponse("/login", status_code=303)
