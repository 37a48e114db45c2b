"""Tickets, their deadline clocks, their steps and their append-only timeline."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.cases.case import Case
from models.core.base import Base, UTCDateTime, enum_column
from models.core.enums import AreaKind, Channel, StepStatus, TicketStatus, TicketType, Urgency
from models.org.customer import Customer
from models.org.organisation import Department, Region, Staff


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    type: Mapped[TicketType] = enum_column(TicketType, index=True)
    subtype: Mapped[str | None] = mapped_column(String(50))
    channel: Mapped[Channel] = enum_column(Channel, default=Channel.phone)
    content: Mapped[str] = mapped_column(Text)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    caller_name: Mapped[str] = mapped_column(String(100))
    caller_phone: Mapped[str] = mapped_column(String(20), index=True)
    address: Mapped[str] = mapped_column(String(300))
    # The feeder (线路) the customer hangs on, when intake knows it: repeat faults count per line too.
    line: Mapped[str | None] = mapped_column(String(50))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    area_kind: Mapped[AreaKind] = enum_column(AreaKind)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[TicketStatus] = enum_column(TicketStatus, default=TicketStatus.received, index=True)
    urgency: Mapped[Urgency] = enum_column(Urgency, default=Urgency.normal)
    rule_version: Mapped[str] = mapped_column(String(50))  # the deadline rules its clocks came from
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    # The declaration (page and forms, a LifecycleVersion) its run started on and finishes on.
    lifecycle_version: Mapped[str | None] = mapped_column(String(16))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "gridline" for our own tickets; "marketing" for tickets watched from the marketing system's
    # export, which name their responsible person themselves.
    source: Mapped[str] = mapped_column(String(20), default="gridline", server_default="gridline")
    responsible_name: Mapped[str | None] = mapped_column(String(50))
    responsible_phone: Mapped[str | None] = mapped_column(String(20))
    # A fault call in an outage's area: told the outage's reason and restore, met when it restores.
    outage_id: Mapped[int | None] = mapped_column(  # use_alter: outages name tickets too
        ForeignKey("outages.id", use_alter=True), index=True)

    customer: Mapped[Customer | None] = relationship()
    region: Mapped[Region] = relationship()
    clocks: Mapped[list["TicketClock"]] = relationship(
        back_populates="ticket", order_by="TicketClock.due_at", cascade="all, delete-orphan"
    )
    steps: Mapped[list["Step"]] = relationship(
        back_populates="ticket", order_by="Step.id", cascade="all, delete-orphan"
    )
    events: Mapped[list["Event"]] = relationship(
        back_populates="ticket", order_by="Event.id", cascade="all, delete-orphan"
    )


class TicketClock(Base):
    """One deadline a ticket runs against (contact, reply, arrive, restore, ...)."""

    __tablename__ = "ticket_clocks"
    __table_args__ = (
        UniqueConstraint("ticket_id", "clock", name="uq_ticket_clocks_ticket_clock"),
        # The audit asks "which clocks still running are due before T": a range scan, not a walk.
        Index("ix_ticket_clocks_open_due", "met_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    clock: Mapped[str] = mapped_column(String(50))
    label: Mapped[str] = mapped_column(String(50))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How long before the due time the clock counts as about to expire (from its rule).
    warn_minutes: Mapped[int] = mapped_column(server_default="1440")
    # When the deadline audit must next look at this clock (as Zammad's escalation_at): the audit
    # reads only rows whose time has come, through this index, never every open ticket.
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    ticket: Mapped[Ticket] = relationship(back_populates="clocks")


# A step or an event belongs to a ticket or to a case, never both.
ONE_SUBJECT = "(ticket_id IS NULL) <> (case_id IS NULL)"


class Step(Base):
    """One piece of work a lifecycle hands to someone: shared by the lifecycle, portal and audit."""

    __tablename__ = "steps"
    __table_args__ = (
        UniqueConstraint("ticket_id", "step_key", "attempt", name="uq_steps_ticket_step_attempt"),
        UniqueConstraint("case_id", "step_key", "attempt", name="uq_steps_case_step_attempt"),
        Index("ix_steps_status_due", "status", "due_at"),
        CheckConstraint(ONE_SUBJECT, name="one_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    step_key: Mapped[str] = mapped_column(String(50))
    attempt: Mapped[int] = mapped_column(default=1)
    form: Mapped[str | None] = mapped_column(String(50))  # a form of flows/lifecycles/forms.yaml; None: no one fills it
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[StepStatus] = enum_column(StepStatus, default=StepStatus.open)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    form_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    ticket: Mapped[Ticket | None] = relationship(back_populates="steps")
    case: Mapped[Case | None] = relationship(back_populates="steps")
    department: Mapped[Department | None] = relationship()
    assignee: Mapped[Staff | None] = relationship(foreign_keys=[assignee_id])
    completed_by: Mapped[Staff | None] = relationship(foreign_keys=[completed_by_id])


# The inbox: a department's open steps, soonest due first, as one index range scan.
inbox_index = Index("ix_steps_department_status_due", Step.department_id, Step.status, Step.due_at)
# Rights: "has my department a step on this ticket" is one index probe, not a walk over the
# department's steps.
ticket_department_index = Index("ix_steps_ticket_department", Step.ticket_id, Step.department_id)



class Event(Base):
    """The timeline: rows are only ever added."""

    __tablename__ = "events"
    __table_args__ = (CheckConstraint(ONE_SUBJECT, name="one_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                                  index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                                index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(50))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    actor: Mapped[str] = mapped_column(String(100))  # a name even for the system or a customer
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    ticket: Mapped[Ticket | None] = relationship(back_populates="events")
    case: Mapped[Case | None] = relationship(back_populates="events")


class IntakeToken(Base):
    """One rendered intake form: consumed by the ticket it creates, so a second POST of the same
    form (double click, back button) finds that ticket instead of creating another."""

    __tablename__ = "intake_tokens"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))


@event.listens_for(TicketClock, "before_insert")
def _schedule_new_clock(mapper, connection, clock: TicketClock) -> None:
    """A new clock is first looked at when it starts to be about to expire."""
    if clock.met_at is None and clock.next_check_at is None:
        clock.next_check_at = clock.due_at - timedelta(minutes=clock.warn_minutes)


@event.listens_for(TicketClock, "before_update")
def _reschedule_clock(mapper, connection, clock: TicketClock) -> None:
    """Whoever moves a deadline or meets it, the audit's next look follows: no writer must remember."""
    state = inspect(clock).attrs
    if clock.met_at is not None:
        clock.next_check_at = None
    elif state.due_at.history.has_changes() or state.met_at.history.has_changes():
        clock.next_check_at = clock.due_at - timedelta(minutes=clock.warn_minutes)


class LifecycleVersion(Base):
    """A lifecycle page and the forms it uses, as they were when first seen (deploy or first
    run), kept so a ticket started on it walks it to the end whatever the page says now."""

    __tablename__ = "lifecycle_versions"

    version: Mapped[str] = mapped_column(String(16), primary_key=True)  # content hash
    type: Mapped[TicketType] = enum_column(TicketType, index=True)
    page: Mapped[str] = mapped_column(Text)
    forms: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
