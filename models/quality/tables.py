"""Quality inspection as stored: scorecard revisions, each period's drawn sample with its seed,
the inspections dealt to inspectors, and their results (a correction is a new row linked to the
old; no row of a published result is ever changed); indicator appeals."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.core.base import Base, UTCDateTime, enum_column
from models.core.enums import DepartmentKind
from models.core.errors import InputError
from models.org.organisation import Department, Region, Staff
from models.quality.lifecycle import ResultStatus
from models.tickets.ticket import Ticket


class ScorecardRevision(Base):
    __tablename__ = "quality_scorecards"

    revision: Mapped[str] = mapped_column(String(16), primary_key=True)  # hash of the text
    key: Mapped[str] = mapped_column(String(50), index=True)
    title: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Sample(Base):
    """One plan's draw for one period: the seed it was drawn with redraws it exactly."""

    __tablename__ = "quality_samples"
    __table_args__ = (UniqueConstraint("plan", "period_start", name="uq_quality_samples_plan_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan: Mapped[str] = mapped_column(String(50))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    seed: Mapped[int]
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Inspection(Base):
    """A sampled ticket in an inspector's queue. A ticket is sampled at most once per plan."""

    __tablename__ = "quality_inspections"
    __table_args__ = (UniqueConstraint("plan", "ticket_id", name="uq_quality_inspections_plan_ticket"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("quality_samples.id"), index=True)
    plan: Mapped[str] = mapped_column(String(50))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)

    sample: Mapped[Sample] = relationship()
    ticket: Mapped[Ticket] = relationship()
    agent: Mapped[Staff] = relationship(foreign_keys=[agent_id])
    inspector: Mapped[Staff] = relationship(foreign_keys=[inspector_id])


class Result(Base):
    """One version of an inspection's result: answers per item, the note as evidence, the score
    against the named scorecard revision, and where it stands in its lifecycle."""

    __tablename__ = "quality_results"
    __table_args__ = (UniqueConstraint("inspection_id", "version", name="uq_quality_results_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("quality_inspections.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("quality_results.id"))
    revision: Mapped[str] = mapped_column(ForeignKey("quality_scorecards.revision"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)  # {item key: met}
    note: Mapped[str] = mapped_column(Text)
    score: Mapped[float]
    passed: Mapped[bool]
    vetoed: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[ResultStatus] = enum_column(ResultStatus, index=True)
    scored_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    appeal_reason: Mapped[str | None] = mapped_column(Text)
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    inspection: Mapped[Inspection] = relationship()
    scored_by: Mapped[Staff] = relationship(foreign_keys=[scored_by_id])
    reviewer: Mapped[Staff | None] = relationship(foreign_keys=[reviewer_id])
    card: Mapped[ScorecardRevision] = relationship()


# The tickets an indicator appeal contests: once it is upheld, they no longer count in that
# indicator's figures, anywhere (tasks/statistics/figures.py).
appeal_tickets = Table(
    "quality_indicator_appeal_tickets", Base.metadata,
    Column("appeal_id", ForeignKey("quality_indicator_appeals.id"), primary_key=True),
    Column("ticket_id", ForeignKey("tickets.id"), primary_key=True, index=True))


class IndicatorAppeal(Base):
    """An agent or unit contesting a KPI figure over named tickets, routed by the rule table to
    a department with a deadline. `figure` is the unit's figure when filed; an upheld appeal
    takes the tickets out of the indicator and records the figure recomputed (`corrected`)."""

    __tablename__ = "quality_indicator_appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator: Mapped[str] = mapped_column(String(50))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    figure: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text)
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    department_kind: Mapped[DepartmentKind] = enum_column(DepartmentKind)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    upheld: Mapped[bool | None]  # None: not decided yet
    corrected: Mapped[str | None] = mapped_column(String(50))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opinion: Mapped[str | None] = mapped_column(Text)  # the deciding department's 处理意见

    region: Mapped[Region] = relationship()
    department: Mapped[Department] = relationship()
    filed_by: Mapped[Staff] = relationship(foreign_keys=[filed_by_id])
    decided_by: Mapped[Staff | None] = relationship(foreign_keys=[decided_by_id])
    tickets: Mapped[list[Ticket]] = relationship(secondary=appeal_tickets, order_by=Ticket.number)

    @property
    def state(self) -> str:
        return "待处理" if self.upheld is None else ("申诉成立" if self.upheld else "申诉不成立")


@event.listens_for(Result, "before_update")
def _published_stays(mapper, connection, result: Result) -> None:
    """A published (or amended) result is never edited, whoever writes: a correction is a new
    version. The move that publishes it is the last change it takes."""
    history = inspect(result).attrs.status.history
    was = history.deleted[0] if history.deleted else result.status
    if was in (ResultStatus.published, ResultStatus.amended):
        raise InputError("result", f"结果{was.label}，不能再修改", f"a {was} result never changes")
