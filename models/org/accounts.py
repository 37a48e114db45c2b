"""Accounts: failed logins, kept in the database so every portal worker process counts the same
attempts."""

from datetime import datetime

from sqlalchemy import Index, String
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
