"""Portal sessions in the database: started at login, checked on every request, ended on logout,
on a password change and when a staff member is disabled (every browser at once)."""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, joinedload

from models.core.errors import InputError
from models.org.accounts import PortalSession
from models.org.organisation import Staff
from models.org.passwords import check_password
from tasks.org.passwords import hash_password


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, staff: Staff, now: datetime, lifetime: timedelta) -> str:
    """A new session of `staff`; the returned token goes into the (signed) cookie. Their ended
    and expired sessions are dropped on the way, so the table holds live ones and a few more."""
    session.execute(delete(PortalSession).where(
        PortalSession.staff_id == staff.id,
        PortalSession.ended_at.is_not(None) | (PortalSession.started_at <= now - lifetime)))
    token = secrets.token_urlsafe(32)
    session.add(PortalSession(id=_digest(token), staff_id=staff.id, started_at=now))
    session.flush()
    return token


def session_staff(session: Session, token: str | None, now: datetime,
                  lifetime: timedelta) -> Staff | None:
    """The signed-in, active staff member of a live session, or None (one query)."""
    if not token:
        return None
    return session.scalar(
        select(Staff).join(PortalSession, PortalSession.staff_id == Staff.id)
        .where(PortalSession.id == _digest(token), PortalSession.ended_at.is_(None),
               PortalSession.started_at > now - lifetime, Staff.active)
        .options(joinedload(Staff.department)))


def end_session(session: Session, token: str | None, now: datetime) -> None:
    if token:
        session.execute(update(PortalSession).where(PortalSession.id == _digest(token),
                                                    PortalSession.ended_at.is_(None))
                        .values(ended_at=now))


def end_all_sessions(session: Session, staff_id: int, now: datetime) -> int:
    """End every live session of one staff member; how many there were."""
    return session.execute(update(PortalSession).where(PortalSession.staff_id == staff_id,
                                                       PortalSession.ended_at.is_(None))
                           .values(ended_at=now)).rowcount


def find_staff(session: Session, code: str) -> Staff:
    staff = session.scalar(select(Staff).where(Staff.code == code))
    if staff is None:
        raise InputError("code", "工号不存在", f"no staff member {code!r}")
    return staff


def set_password(session: Session, staff: Staff, password: str, now: datetime,
                 field: str = "password") -> int:
    """Checked against the policy, stored hashed; every session of the person ends."""
    check_password(password, staff.code, field)
    staff.password_hash = hash_password(password)
    return end_all_sessions(session, staff.id, now)


def disable_staff(session: Session, staff: Staff, now: datetime) -> int:
    """No more logins, and every open session ends now; history (steps, timeline) stays."""
    staff.active = False
    return end_all_sessions(session, staff.id, now)
