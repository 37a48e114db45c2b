"""The outage register (停电信息): planned outages from the distribution system's export or a
page, unplanned ones opened from a repair ticket; each with its area (units), lines, times,
reason and status. Pure: the tables and the rule of an outage in effect."""

from datetime import datetime

from sqlalchemy import JSON, ColumnElement, ForeignKey, Index, String, Text, and_, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.core.base import Base, UTCDateTime, enum_column
from models.core.enums import Labelled
from models.org.organisation import Region


class OutageKind(Labelled):
    planned = "planned", "计划停电"
    temporary = "temporary", "临时检修"
    fault = "fault", "故障停电"


class OutageStatus(Labelled):
    planned = "planned", "计划"
    active = "active", "进行中"
    restored = "restored", "已恢复"
    cancelled = "cancelled", "取消"


class Outage(Base):
    __tablename__ = "outages"
    __table_args__ = (Index("ix_outages_status_start", "status", "start_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)  # 停电编号 of the export, or ours
    kind: Mapped[OutageKind] = enum_column(OutageKind)
    status: Mapped[OutageStatus] = enum_column(OutageStatus, default=OutageStatus.planned)
    lines: Mapped[list[str]] = mapped_column(JSON, default=list)  # 线路 names, as the export has them
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    restore_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the expected restore the caller hears
    restored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    # An unplanned outage: the repair ticket it was opened from.
    source_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(50))

    areas: Mapped[list["OutageArea"]] = relationship(
        back_populates="outage", cascade="all, delete-orphan", order_by="OutageArea.region_id")


class OutageArea(Base):
    """One unit (region) an outage covers; the units under it are covered too."""

    __tablename__ = "outage_areas"

    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"),
                                           primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), primary_key=True, index=True)

    outage: Mapped[Outage] = relationship(back_populates="areas")
    region: Mapped[Region] = relationship()


LIVE = (OutageStatus.planned, OutageStatus.active)


def in_effect(at: datetime) -> ColumnElement[bool]:
    """An outage the power is off by at `at`: started, neither cancelled nor restored by then."""
    return and_(Outage.start_at <= at, Outage.status != OutageStatus.cancelled,
                or_(Outage.restored_at.is_(None), Outage.restored_at > at))


def covers(region_ids: frozenset[int] | set[int]) -> ColumnElement[bool]:
    """An outage whose area holds one of these units (a caller's unit and those above it)."""
    return Outage.areas.any(OutageArea.region_id.in_(region_ids))


def shown_status(outage: Outage, now: datetime) -> OutageStatus:
    """The status the board says: a planned outage whose start has come is in progress."""
    if outage.status == OutageStatus.planned and outage.start_at <= now:
        return OutageStatus.active
    return outage.status
