"""Who is asking: sessions in signed cookies, CSRF tokens on every form, throttled logins."""

import hashlib
import os
import secrets
import time
from collections import defaultdict, deque
from hmac import compare_digest

from fastapi import HTTPException, Request

from tasks.settings import Settings
from models.org import Staff


def portal_secret(settings: Settings) -> str:
    """The cookie-signing key: from the settings, or made once and kept under var/ (mode 0600)."""
    if settings.portal.secret:
        return settings.portal.secret
    path = settings.var_dir / "portal-secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
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
    """Failed logins in a sliding window, per account and per client address."""

    def __init__(self, per_account: int, per_address: int, window_seconds: float,
                 clock=time.monotonic):
        self.limits = {"account": per_account, "address": per_address}
        self.window, self.clock = window_seconds, clock
        self.failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        times, horizon = self.failures[key], self.clock() - self.window
        while times and times[0] < horizon:
            times.popleft()
        return times

    def blocked(self, account: str, address: str) -> bool:
        return (len(self._recent(("account", account))) >= self.limits["account"]
                or len(self._recent(("address", address))) >= self.limits["address"])

    def failed(self, account: str, address: str) -> None:
        now = self.clock()
        self.failures[("account", account)].append(now)
        self.failures[("address", address)].append(now)

    def succeeded(self, account: str) -> None:
        self.failures.pop(("account", account), None)
