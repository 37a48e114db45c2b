"""The deadline audit's rules (seed 000, done properly): when a clock is about to expire or overdue,
who hears of it and how often, and the statistics rows it leaves. Pure: `now` is an argument."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.core.base import Base, UTCDateTime, enum_column
from models.core.enums import Labelled, TicketType


class AuditStage(Labelled):
    about_to_expire = "about_to_expire", "即将超期"
    overdue = "overdue", "已超期"


class AuditPolicy(BaseModel):
    target_types: list[TicketType] = list(TicketType)
    repeat_hours: float = Field(24, gt=0)  # overdue reminders repeat at this cadence, never faster
    escalate_supervisor_hours: float = Field(24, ge=0)  # overdue this long: the supervisor hears
    escalate_duty_hours: float = Field(72, ge=0)  # and then the centre's duty manager
    max_clock_skew_seconds: float = Field(60, gt=0)


@dataclass(frozen=True)
class Assessment:
    stage: AuditStage | None
    repeat: int  # which overdue reminder this is: 0, 1, 2 ... one per cadence
    escalation: int  # 0 none, 1 supervisor, 2 duty manager
    next_check_at: datetime


def stage_of(due_at: datetime, warn: timedelta, now: datetime) -> AuditStage | None:
    """About to expire from `warn` before the due time, overdue from the due time on."""
    if now < due_at - warn:
        return None
    return AuditStage.about_to_expire if now < due_at else AuditStage.overdue


def assess(due_at: datetime, warn: timedelta, now: datetime, policy: AuditPolicy) -> Assessment:
    """Where a running clock stands at `now`, and when it next needs looking at."""
    stage = stage_of(due_at, warn, now)
    if stage is None:
        return Assessment(None, 0, 0, due_at - warn)
    if stage == AuditStage.about_to_expire:
        return Assessment(stage, 0, 0, due_at)
    over = timedelta(seconds=(now - due_at).total_seconds())  # plain timedelta, whatever came in
    cadence = timedelta(hours=policy.repeat_hours)
    repeat = int(over.total_seconds() // cadence.total_seconds())
    thresholds = [timedelta(hours=policy.escalate_supervisor_hours),
                  timedelta(hours=policy.escalate_duty_hours)]
    escalation = sum(1 for t in thresholds if over >= t)
    upcoming = [due_at + t for t in thresholds if over < t] + [due_at + cadence * (repeat + 1)]
    return Assessment(AuditStage.overdue, repeat, escalation, min(upcoming))


class AuditRecord(Base):
    """A row of the day's statistics table (即将超期/已超期工单统计表): one per clock, stage and day.

    The day's workbooks are written from these rows, so an audit that re-runs rewrites the same
    rows instead of appending duplicates."""

    __tablename__ = "audit_records"
    __table_args__ = (UniqueConstraint("day", "clock_id", "stage", name="uq_audit_records_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)  # the centre's local date
    clock_id: Mapped[int] = mapped_column(ForeignKey("ticket_clocks.id", ondelete="CASCADE"))
    stage: Mapped[AuditStage] = enum_column(AuditStage)
    ticket_number: Mapped[str] = mapped_column(String(32))
    ticket_type: Mapped[str] = mapped_column(String(20))
    clock_label: Mapped[str] = mapped_column(String(50))
    content: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    department: Mapped[str] = mapped_column(String(100))
    responsible: Mapped[str] = mapped_column(String(50))
    responsible_phone: Mapped[str] = mapped_column(String(20))
    escalation: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
