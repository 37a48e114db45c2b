"""Workforce planning tables: call history, the staffing plan, the roster, live indicators and
shift handovers."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.core.base import Base, UTCDateTime
from models.org.organisation import Staff
from models.tickets.ticket import Step


class CallRecord(Base):
    """One call offered to the centre, as the telephony system exported it."""

    __tablename__ = "call_records"
    __table_args__ = (Index("ix_call_records_group_offered", "group", "offered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The switch's own id, when the export has one: importing a file twice adds nothing.
    call_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    group: Mapped[str] = mapped_column(String(50))  # business group / queue
    answered: Mapped[bool]
    wait_s: Mapped[float]
    talk_s: Mapped[float]
    wrap_s: Mapped[float]


class StaffingPlan(Base):
    """Forecast and agents needed for one business group in one interval; a re-run replaces it."""

    __tablename__ = "staffing_plan"
    __table_args__ = (UniqueConstraint("group", "interval_start", name="uq_staffing_plan_interval"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group: Mapped[str] = mapped_column(String(50))
    interval_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    calls: Mapped[float]
    aht_s: Mapped[float]
    agents: Mapped[int]
    rostered: Mapped[int]
    service_level: Mapped[float]
    asa_s: Mapped[float]
    occupancy: Mapped[float]
    abandon_rate: Mapped[float]
    made_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RosterShift(Base):
    """One agent on one shift."""

    __tablename__ = "roster_shifts"
    __table_args__ = (UniqueConstraint("staff_id", "start_at", name="uq_roster_shifts_staff_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    shift: Mapped[str] = mapped_column(String(20))  # the template's code
    business_group: Mapped[str | None] = mapped_column(String(50))  # the agent's, when rostered
    start_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    staff: Mapped[Staff] = relationship()


class IndicatorReading(Base):
    """A live indicator of a business group (queue length, answer rate, ...) at one moment."""

    __tablename__ = "indicator_readings"
    __table_args__ = (
        UniqueConstraint("group", "indicator", "at", name="uq_indicator_readings_reading"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group: Mapped[str] = mapped_column(String(50))
    indicator: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    value: Mapped[float]


class HandoverItem(Base):
    """An unfinished item passed from the ending shift to an agent of the next one."""

    __tablename__ = "handover_items"
    __table_args__ = (
        UniqueConstraint("shift_change_at", "step_id", name="uq_handover_items_change_step"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_change_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # open_step | callback
    from_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    to_staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))

    step: Mapped[Step] = relationship()
    to_staff: Mapped[Staff] = relationship(foreign_keys=[to_staff_id])
