"""One-time password set-up links: a new staff member (or one an admin reset) chooses their own
password; nobody else ever knows it, and no shared default exists."""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from models.core.errors import InputError
from models.org.accounts import PasswordSetup
from models.org.organisation import Staff
from tasks.core.settings import get_settings
from tasks.messaging.outbox import enqueue_many, messages_to
from tasks.org.sessions import set_password

PATH = "/password/setup/"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def send_setup_link(session: Session, staff: Staff, now: datetime, *, reason: str) -> str:
    """A fresh link for `staff` (their earlier ones stop working), sent by SMS and e-mail through
    the outbox. Returns the token (for the caller's tests; never shown to an admin)."""
    session.flush()  # a new staff member needs their id
    session.execute(update(PasswordSetup).where(PasswordSetup.staff_id == staff.id,
                                                PasswordSetup.used_at.is_(None))
                    .values(used_at=now))
    token = secrets.token_urlsafe(24)
    expires = now + timedelta(hours=get_settings().portal.setup_link_hours)
    session.add(PasswordSetup(id=_digest(token), staff_id=staff.id, issued_at=now,
                              expires_at=expires))
    context = {"name": staff.name, "staff_code": staff.code, "expires_at": expires,
               "link": f"{get_settings().portal.link_base()}{PATH}{token}"}
    enqueue_many(session, messages_to(staff, key=f"password_setup:{_digest(token)[:16]}:{reason}",
                                      template="password_setup", context=context, urgent=True),
                 now=now)
    return token


def setup_staff(session: Session, token: str, now: datetime) -> Staff:
    """The active staff member a live, unused link belongs to."""
    setup = session.get(PasswordSetup, _digest(token))
    if setup is None or setup.used_at is not None or setup.expires_at <= now:
        raise InputError("token", "链接无效或已过期，请联系管理员重新发送",
                         "the link is unknown, used or expired")
    staff = session.get(Staff, setup.staff_id)
    if staff is None or not staff.active:
        raise InputError("token", "账号已停用", "the account is deactivated")
    return staff


def redeem_setup(session: Session, token: str, password: str, now: datetime,
                 field: str = "new") -> Staff:
    """Set the password through the link (the policy applies), and use the link up."""
    staff = setup_staff(session, token, now)
    set_password(session, staff, password, now, field=field)
    session.execute(update(PasswordSetup).where(PasswordSetup.id == _digest(token))
                    .values(used_at=now))
    return staff

