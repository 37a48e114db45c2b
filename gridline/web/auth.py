"""Who is asking: sessions in signed cookies, CSRF tokens on every form, throttled logins."""

import hashlib
import os
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from hmac import compare_digest

from fastapi import HTTPException, Request
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models.org.accounts import LoginFailure
from models.org.organisation import Staff
from tasks.core.settings import Settings

KEY_LENGTH = LoginFailure.key.type.length  # a longer typed code counts as its first characters


def portal_secret(settings: Settings) -> str:
    """The cookie-signing key: from the settings, or made once and kept under var/ (mode 0600).
    Several worker processes start at once: the file appears whole (linked into place) or not at
    all, so none of them reads a half-written key."""
    if settings.portal.secret:
        return settings.portal.secret
    path = settings.var_dir / "portal-secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        draft = path.with_name(f"portal-secret.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)  # the first process's key wins
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def password_stamp(staff: Staff) -> str:
    """Changes with the password, so a new password ends every session signed before it."""
    return hashlib.sha256((staff.password_hash or "").encode()).hexdigest()[:16]


def csrf_token(request: Request) -> str:
    return request.session.setdefault("csrf", secrets.token_urlsafe(32))


async def require_csrf(request: Request) -> None:
    """Every POST carries the session's token: a form posted from another site has none."""
    form = await request.form()
    expected = request.session.get("csrf")
    if not expected or not compare_digest(str(form.get("csrf", "")), expected):
        raise HTTPException(403, "表单已失效，请返回并刷新页面后重新提交。")


def start_session(request: Request, staff: Staff) -> None:
    request.session.clear()  # a new session id on login: no fixation
    request.session.update(staff=staff.id, stamp=password_stamp(staff),
                           csrf=secrets.token_urlsafe(32))


class LoginThrottle:
    """Failed logins in a sliding window, per account and per client address. The count lives in
    the database, so every portal worker process (and every restart) sees the same attempts."""

    def __init__(self, per_account: int, per_address: int, window_seconds: float,
                 clock: Callable[[], datetime]):
        self.limits = {"account": per_account, "address": per_address}
        self.window, self.clock = timedelta(seconds=window_seconds), clock

    def blocked(self, session: Session, account: str, address: str) -> bool:
        since = self.clock() - self.window
        return any(
            session.scalar(select(func.count()).select_from(LoginFailure).where(
                LoginFailure.kind == kind, LoginFailure.key == key[:KEY_LENGTH],
                LoginFailure.failed_at > since)) >= self.limits[kind]
            for kind, key in (("account", account), ("address", address)))

    def failed(self, session: Session, account: str, address: str) -> None:
        now = self.clock()
        # Failures out of every window count for nothing: dropped, so the table stays small.
        session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - self.window))
        session.add_all([LoginFailure(kind="account", key=account[:KEY_LENGTH], failed_at=now),
                         LoginFailure(kind="address", key=address[:KEY_LENGTH], failed_at=now)])
        session.commit()

    def succeeded(self, session: Session, account: str) -> None:
        session.execute(delete(LoginFailure).where(LoginFailure.kind == "account",
                                                   LoginFailure.key == account[:KEY_LENGTH]))
        session.commit()
