"""What the portal reads by (indexes on the lifecycle's tables) and its one table of its own:
failed logins, kept in the database so every portal worker process counts the same attempts."""

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.ticket import Step

# The inbox: a department's open steps, soonest due first, as one index range scan.
inbox_index = Index("ix_steps_department_status_due", Step.department_id, Step.status, Step.due_at)
# Rights: "has my department a step on this ticket" is one index probe, not a walk over the
# department's steps.
ticket_department_index = Index("ix_steps_ticket_department", Step.ticket_id, Step.department_id)


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
