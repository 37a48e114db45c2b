"""Customer satisfaction by sampling (seed 004): the scheduled survey round, and the use case
behind the SMS platform's uplink, where an unsatisfied answer opens exactly one follow-up ticket
through flows.intake.open_ticket."""

from datetime import datetime

import pendulum
from prefect import flow, get_run_logger, task
from sqlalchemy.orm import Session

from flows.intake import LifecycleNotStarted, open_ticket
from models.surveys.campaigns import FollowUp, load_campaigns
from models.surveys.tables import Survey
from models.tickets.ticket import Event, Ticket
from tasks.core.db import session_scope
from tasks.core.settings import Settings, get_settings
from tasks.surveys.draw import close_lapsed, draw_round
from tasks.surveys.replies import Matched, match_reply


@task(retries=2, retry_delay_seconds=10)
def draw_due_surveys(now: str) -> dict[str, int]:
    settings = get_settings()
    campaigns = load_campaigns(settings.surveys.campaigns_file)
    with session_scope() as session:
        return dict(draw_round(session, campaigns, now=pendulum.parse(now),
                               timezone=settings.timezone, policy=settings.outbox))


@task(retries=2, retry_delay_seconds=10)
def close_lapsed_surveys(now: str) -> dict[str, int]:
    with session_scope() as session:
        return dict(close_lapsed(session, now=pendulum.parse(now)))


@flow(name="satisfaction-surveys")
def survey_round(now: str | None = None) -> dict:
    """`now` (ISO 8601) replays a round at a given time."""
    at = now or pendulum.now("UTC").isoformat()
    drawn, closed = draw_due_surveys(at), close_lapsed_surveys(at)
    get_run_logger().info("survey round at %s: drawn %s, closed %s", at, drawn, closed)
    return {"at": at, **drawn, **closed}


def _follow_up(survey: Survey, settings: Settings) -> FollowUp:
    campaigns = load_campaigns(settings.surveys.campaigns_file)
    return next((c.follow_up for c in campaigns if c.key == survey.campaign), FollowUp())


def open_follow_up(session: Session, survey: Survey, text: str, *, now: datetime,
                   settings: Settings) -> Ticket:
    """The complaint review or re-visit of an unsatisfied answer, linked to the surveyed ticket
    in the transaction that creates it; a survey that has one already opens nothing."""
    if survey.follow_up is not None:
        return survey.follow_up
    surveyed, kind = survey.ticket, _follow_up(survey, settings)
    data = {"type": kind.type.value, "subtype": kind.subtype, "channel": "other",
            "phone": surveyed.caller_phone, "name": surveyed.caller_name,
            "address": surveyed.address, "region": surveyed.region.code,
            "content": f"满意度调查不满意：原工单{surveyed.number}（{surveyed.type.label}），"
                       f"客户回复“{text.strip()[:50]}”，请核实处理。"}

    def link(ticket: Ticket) -> None:
        survey.follow_up = ticket
        session.add(Event(ticket_id=surveyed.id, at=now, kind="survey_follow_up", actor="系统",
                          message=f"客户回复不满意，已开立跟进工单 {ticket.number}"))

    try:
        return open_ticket(session, data, now=now, settings=settings, on_created=link).ticket
    except LifecycleNotStarted:  # stored and linked; the reconcile deployment starts its run
        session.refresh(survey)
        return survey.follow_up


def receive_reply(session: Session, *, phone: str, text: str, received_at: datetime,
                  now: datetime, platform_id: str | None = None,
                  settings: Settings | None = None) -> Matched:
    """Record one uplink (see tasks.surveys.replies); an unsatisfied answer also opens its
    follow-up. Commits."""
    settings = settings or get_settings()
    matched = match_reply(session, phone=phone, text=text, received_at=received_at,
                          platform_id=platform_id)
    if matched.unsatisfied:
        open_follow_up(session, matched.survey, text, now=now, settings=settings)
    session.commit()
    return matched
