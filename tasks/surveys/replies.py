"""A customer's SMS reply, matched to the survey sent to that number by time: counted, late,
unknown number, garbage or a second reply. Each is recorded; only a counted one sets the answer."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.errors import InputError
from models.messaging.outbox import OutboxMessage
from models.surveys.answers import Answer, ReplyOutcome, SurveyStatus, expires_at, read_answer
from models.surveys.tables import Survey, SurveyReply
from models.tickets.intake import normalise_phone
from models.tickets.ticket import Event

MATCHED = (SurveyStatus.awaiting, SurveyStatus.answered, SurveyStatus.no_answer)


@dataclass(frozen=True)
class Matched:
    reply: SurveyReply
    survey: Survey | None
    new: bool  # False: the platform sent this uplink before; nothing was recorded again

    @property
    def unsatisfied(self) -> bool:
        return (self.new and self.reply.outcome == ReplyOutcome.counted
                and self.survey.answer == Answer.unsatisfied)


def _national(phone: str) -> str | None:
    try:
        return normalise_phone(phone)
    except InputError:
        return None


def survey_for(session: Session, phone: str, received_at: datetime) -> Survey | None:
    """The newest survey whose SMS reached this number before the reply came (locked, so two
    replies at once are decided one after the other)."""
    return session.scalar(
        select(Survey).join(OutboxMessage, Survey.message_id == OutboxMessage.id)
        .where(Survey.phone == phone, Survey.status.in_(MATCHED),
               OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at <= received_at)
        .order_by(OutboxMessage.sent_at.desc(), Survey.id.desc()).limit(1).with_for_update())


def outcome_of(survey: Survey | None, text: str, received_at: datetime) -> ReplyOutcome:
    if survey is None:
        return ReplyOutcome.unknown
    if survey.status == SurveyStatus.answered:
        return ReplyOutcome.repeat
    if survey.status == SurveyStatus.no_answer or \
            received_at > expires_at(survey.message.sent_at, survey.valid_hours):
        return ReplyOutcome.late
    return ReplyOutcome.counted if read_answer(text) else ReplyOutcome.garbage


def match_reply(session: Session, *, phone: str, text: str, received_at: datetime,
                platform_id: str | None = None) -> Matched:
    if platform_id:
        earlier = session.scalar(select(SurveyReply).where(SurveyReply.platform_id == platform_id))
        if earlier is not None:
            return Matched(earlier, earlier.survey, new=False)
    national = _national(phone)
    survey = survey_for(session, national, received_at) if national else None
    outcome = outcome_of(survey, text, received_at)
    reply = SurveyReply(platform_id=platform_id or None, phone=national or phone[:40], text=text,
                        received_at=received_at, outcome=outcome,
                        survey_id=survey.id if survey else None)
    session.add(reply)
    if outcome == ReplyOutcome.counted:
        survey.answer, survey.answered_at = read_answer(text), received_at
        survey.status = SurveyStatus.answered
        session.add(Event(ticket_id=survey.ticket_id, at=received_at, kind="survey_answer",
                          actor="客户", message=f"满意度调查回复：{survey.answer.label}"))
    session.flush()
    return Matched(reply, survey, new=True)
