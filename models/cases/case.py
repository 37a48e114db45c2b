"""A case: one run of a lifecycle over a subject other than a ticket (a report submission, a
quality appeal, a reply script). The subject keeps its own row and rules; the case holds where the
walk stands, and its steps and timeline share the ticket's tables (`steps.case_id`,
`events.case_id`)."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.core.base import Base, UTCDateTime
from models.org.organisation import Region, Staff

OPEN = "open"
CLOSED = "closed"


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(50), index=True)  # its page: cases/<kind>.yaml
    ref_id: Mapped[int] = mapped_column(index=True)  # the subject row's id
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)  # who acts
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32), default=OPEN)
    lifecycle_version: Mapped[str | None] = mapped_column(String(16))
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    region: Mapped[Region] = relationship()
    opened_by: Mapped[Staff | None] = relationship()
    # Step and Event (models.tickets.ticket) are named, not imported: that module imports this.
    steps: Mapped[list["Step"]] = relationship(  # noqa: F821
        back_populates="case", order_by="Step.id", cascade="all, delete-orphan")
    events: Mapped[list["Event"]] = relationship(  # noqa: F821
        back_populates="case", order_by="Event.id", cascade="all, delete-orphan")


class CaseVersion(Base):
    """A case page and the forms it uses as first seen: what a case started on walks to its end
    (the ticket pages' LifecycleVersion, keyed by kind instead of ticket type)."""

    __tablename__ = "case_versions"

    version: Mapped[str] = mapped_column(String(16), primary_key=True)  # content hash
    kind: Mapped[str] = mapped_column(String(50), index=True)
    page: Mapped[str] = mapped_column(Text)
    forms: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
