"""A survey per sampled ticket and every SMS reply the platform forwards, matched or not."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.core.base import Base, UTCDateTime, enum_column
from models.core.enums import TicketType
from models.messaging.outbox import OutboxMessage
from models.org.organisation import Region
from models.surveys.answers import Answer, ReplyOutcome, SurveyStatus
from models.tickets.ticket import Ticket


class Survey(Base):
    __tablename__ = "surveys"
    __table_args__ = (
        # Matching a reply and the repeat rule both ask "this phone's surveys, newest first".
        Index("ix_surveys_phone_created", "phone", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign: Mapped[str] = mapped_column(String(40))
    # One survey per ticket, whichever campaign drew it first: a re-run queues nothing new.
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           unique=True)
    phone: Mapped[str] = mapped_column(String(20))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    ticket_type: Mapped[TicketType] = enum_column(TicketType)
    # The draw as it was made: the campaign's seed, the ticket's value and the rate it met.
    seed: Mapped[int]
    draw: Mapped[float]
    rate: Mapped[float]
    valid_hours: Mapped[float]
    status: Mapped[SurveyStatus] = enum_column(SurveyStatus, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    answer: Mapped[Answer | None] = enum_column(Answer, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 无应答 or 未送达 decided
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))

    ticket: Mapped[Ticket] = relationship(foreign_keys=[ticket_id])
    region: Mapped[Region] = relationship()
    message: Mapped[OutboxMessage | None] = relationship()
    follow_up: Mapped[Ticket | None] = relationship(foreign_keys=[follow_up_id])


class SurveyReply(Base):
    """An uplink as the SMS platform sent it, kept whatever became of it."""

    __tablename__ = "survey_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The platform's own id of the message: a platform retrying the same uplink is answered the
    # first outcome, not recorded twice.
    platform_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id"), index=True)
    outcome: Mapped[ReplyOutcome] = enum_column(ReplyOutcome)

    survey: Mapped[Survey | None] = relationship()
