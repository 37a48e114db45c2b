"""Who is asking: sessions (a token in a signed cookie, checked against the database on every
request), CSRF tokens on every form, throttled logins, the client's address behind a proxy."""

import ipaddress
import os
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from hmac import compare_digest

from fastapi import HTTPException, Request
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from models.org.accounts import LoginFailure
from models.org.organisation import Staff
from tasks.core.settings import Settings
from tasks.org import sessions

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


def csrf_token(request: Request) -> str:
    return request.session.setdefault("csrf", secrets.token_urlsafe(32))


async def require_csrf(request: Request) -> None:
    """Every POST carries the session's token: a form posted from another site has none."""
    form = await request.form()
    expected = request.session.get("csrf")
    if not expected or not compare_digest(str(form.get("csrf", "")), expected):
        raise HTTPException(403, "表单已失效，请返回并刷新页面后重新提交。")


def start_session(request: Request, db: Session, staff: Staff, now: datetime,
                  hours: float) -> None:
    """A new server-side session (no fixation: nothing of the anonymous one is kept)."""
    request.session.clear()
    request.session.update(sid=sessions.start_session(db, staff, now, timedelta(hours=hours)),
                           csrf=secrets.token_urlsafe(32))
    db.commit()  # now, not when the request's session closes: the redirect's request needs it


def end_session(request: Request, db: Session, now: datetime) -> None:
    """Logout: the session ends in the database, so a copy of the cookie opens nothing."""
    sessions.end_session(db, request.session.get("sid"), now)
    db.commit()
    request.session.clear()


def signed_in(request: Request, db: Session, now: datetime, hours: float) -> Staff | None:
    return sessions.session_staff(db, request.session.get("sid"), now, timedelta(hours=hours))


def trusted_networks(setting: str) -> tuple:
    """GRIDLINE_PORTAL__TRUSTED_PROXIES: addresses or networks, comma-separated."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False)
                 for part in setting.split(",") if part.strip())


def client_address(request: Request, trusted: tuple) -> str:
    """The peer's address, or, when the peer is a trusted proxy, the right-most address of
    X-Forwarded-For that is not one of ours (anything left of it a client could have written)."""
    peer = request.client.host if request.client else ""
    hops = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",")]
    address = peer
    while _is_trusted(address, trusted) and hops:
        candidate = hops.pop()
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            break  # a garbled header: keep the last address we can vouch for
        address = candidate
    return address


def _is_trusted(address: str, trusted: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


class LoginThrottle:
    """Failed logins in a sliding window, per account and per client address. The count lives in
    the database, so every portal worker process (and every restart) sees the same attempts.

    Each attempt is booked as a failure *before* its password is checked, counted and booked in
    one transaction under a lock: thirty parallel guesses get exactly `per_account` checks. A
    correct password takes its booking back."""

    def __init__(self, per_account: int, per_address: int, window_seconds: float,
                 clock: Callable[[], datetime]):
        self.limits = {"account": per_account, "address": per_address}
        self.window, self.clock = timedelta(seconds=window_seconds), clock

    def book(self, session: Session, account: str, address: str) -> list[int] | None:
        """The ids of this attempt's booked failures, or None when the account or address is
        over its limit (nothing booked)."""
        now = self.clock()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(95598014)"))
        # Failures out of every window count for nothing: dropped, so the table stays small. On
        # SQLite this first write takes the database's write lock for the count below.
        session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - self.window))
        keys = (("account", account[:KEY_LENGTH]), ("address", address[:KEY_LENGTH]))
        if any(session.scalar(select(func.count()).select_from(LoginFailure).where(
                LoginFailure.kind == kind, LoginFailure.key == key)) >= self.limits[kind]
               for kind, key in keys):
            session.commit()
            return None
        rows = [LoginFailure(kind=kind, key=key, failed_at=now) for kind, key in keys]
        session.add_all(rows)
        session.commit()
        return [row.id for row in rows]

    def succeeded(self, session: Session, account: str, booked: list[int]) -> None:
        session.execute(delete(LoginFailure).where(
            (LoginFailure.id.in_(booked)) | ((LoginFailure.kind == "account")
                                            & (LoginFailure.key == account[:KEY_LENGTH]))))
