"""Accounts: portal sessions and failed logins, kept in the database so every portal worker
process sees the same ones, and a session ended there is ended everywhere."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.core.base import Base, UTCDateTime


class LoginFailure(Base):
    """One failed login, counted against an account (the typed code) or a client address."""

    __tablename__ = "login_failures"
    __table_args__ = (
        # "How many failures of this account since ...": one index range scan.
        Index("ix_login_failures_kind_key_at", "kind", "key", "failed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # account | address
    key: Mapped[str] = mapped_column(String(100))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PortalSession(Base):
    """One signed-in browser. The cookie carries a random token; only its SHA-256 is stored, so a
    copy of the table opens no session. Ended on logout, password change and `user disable`."""

    __tablename__ = "portal_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the token
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PasswordSetup(Base):
    """A one-time link for a staff member to choose their own password (new staff, an admin's
    reset). Only the token's SHA-256 is stored; used once, within its hours."""

    __tablename__ = "password_setups"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the token
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
