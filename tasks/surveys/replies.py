"""A customer's SMS reply, matched to the survey sent to that number by time: counted, late,
unknown number, unreadable or a second reply. Each is recorded; only a counted one sets the
answer. The first unreadable reply is asked once more by SMS; later ones are only recorded."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from models.core.errors import InputError
from models.messaging.outbox import OutboxMessage
from models.surveys.answers import Answer, ReplyOutcome, SurveyStatus, expires_at, read_answer
from models.surveys.tables import Survey, SurveyReply
from models.tickets.intake import normalise_phone
from models.tickets.ticket import Event
from tasks.messaging.outbox import enqueue

MATCHED = (SurveyStatus.awaiting, SurveyStatus.answered, SurveyStatus.no_answer)
REASK_TEMPLATE = "survey_reask"


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


def outcome_of(session: Session, survey: Survey | None, text: str,
               received_at: datetime) -> ReplyOutcome:
    if survey is None:
        return ReplyOutcome.unknown
    if survey.status == SurveyStatus.answered:
        return ReplyOutcome.repeat
    if survey.status == SurveyStatus.no_answer or \
            received_at > expires_at(survey.message.sent_at, survey.valid_hours):
        return ReplyOutcome.late
    if read_answer(text):
        return ReplyOutcome.counted
    return ReplyOutcome.invalid if _asked_again(session, survey) else ReplyOutcome.garbage


def _asked_again(session: Session, survey: Survey) -> bool:
    return session.scalar(select(exists().where(
        SurveyReply.survey_id == survey.id, SurveyReply.outcome == ReplyOutcome.garbage)))


def ask_again(session: Session, survey: Survey, now: datetime) -> None:
    """One more SMS saying how to answer; keyed by the ticket, so it is never sent twice."""
    ticket = survey.ticket
    enqueue(session, key=f"survey:{ticket.id}:reask", channel="sms", recipient=survey.phone,
            template=REASK_TEMPLATE, ticket_id=ticket.id, to_customer=True, now=now,
            context={"ticket_no": ticket.number})


def match_reply(session: Session, *, phone: str, text: str, received_at: datetime,
                platform_id: str | None = None) -> Matched:
    if platform_id:
        earlier = session.scalar(select(SurveyReply).where(SurveyReply.platform_id == platform_id))
        if earlier is not None:
            return Matched(earlier, earlier.survey, new=False)
    national = _national(phone)
    survey = survey_for(session, national, received_at) if national else None
    outcome = outcome_of(session, survey, text, received_at)
    reply = SurveyReply(platform_id=platform_id or None, phone=national or phone[:40], text=text,
                        received_at=received_at, outcome=outcome,
                        survey_id=survey.id if survey else None)
    session.add(reply)
    if outcome == ReplyOutcome.counted:
        survey.answer, survey.answered_at = read_answer(text), received_at
        survey.status = SurveyStatus.answered
        session.add(Event(ticket_id=survey.ticket_id, at=received_at, kind="survey_answer",
                          actor="客户", message=f"满意度调查回复：{survey.answer.label}"))
    elif outcome == ReplyOutcome.garbage:
        ask_again(session, survey, received_at)
    session.flush()
    return Matched(reply, survey, new=True)
