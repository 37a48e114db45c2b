"""A survey round: draw the closed tickets each campaign samples and queue their SMS through the
outbox, once per ticket; then close the surveys whose validity has run out (无应答) or whose SMS
the outbox gave up on (未送达)."""

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from models.core.enums import TicketStatus
from models.messaging.outbox import DeliveryPolicy, OutboxMessage, OutboxStatus
from models.org.organisation import Region
from models.surveys.answers import SurveyStatus, expires_at
from models.surveys.campaigns import Campaign, draw_value
from models.surveys.tables import Survey
from models.tickets.ticket import Ticket
from tasks.messaging.outbox import enqueue

TEMPLATE = "survey"


def region_lines(session: Session) -> dict[int, frozenset[str]]:
    """Each region's code with the codes of every region above it: a campaign or stratum naming
    a city covers its counties."""
    codes, parents = {}, {}
    for region_id, code, parent_id in session.execute(
            select(Region.id, Region.code, Region.parent_id)):
        codes[region_id], parents[region_id] = code, parent_id
    lines = {}
    for region_id in codes:
        line, current = set(), region_id
        while current is not None:
            line.add(codes[current])
            current = parents.get(current)
        lines[region_id] = frozenset(line)
    return lines


def due_tickets(session: Session, campaign: Campaign, now: datetime) -> list[Ticket]:
    """Closed at least `delay_hours` ago and within the window, of the campaign's types and
    channels, not surveyed yet (by any campaign), oldest first."""
    latest = now - timedelta(hours=campaign.delay_hours)
    query = (select(Ticket).where(Ticket.status == TicketStatus.closed,
                                  Ticket.closed_at <= latest,
                                  Ticket.closed_at > latest - timedelta(days=campaign.window_days),
                                  ~exists().where(Survey.ticket_id == Ticket.id))
             .order_by(Ticket.closed_at, Ticket.id))
    if campaign.types:
        query = query.where(Ticket.type.in_(campaign.types))
    if campaign.channels:
        query = query.where(Ticket.channel.in_(campaign.channels))
    return list(session.scalars(query))


def surveyed_lately(session: Session, phone: str, since: datetime) -> bool:
    return session.scalar(select(exists().where(
        Survey.phone == phone, Survey.created_at > since,
        Survey.status != SurveyStatus.skipped))) or False


def draw_round(session: Session, campaigns: list[Campaign], *, now: datetime, timezone: str,
               policy: DeliveryPolicy) -> Counter:
    """Draw every campaign's due tickets; returns how many were queued and skipped. A ticket
    not drawn is not stored: the seed draws it the same way next round."""
    counts: Counter = Counter()
    lines = region_lines(session)
    for campaign in campaigns:
        quiet = policy.model_copy(update={"quiet_start": campaign.quiet_start,
                                          "quiet_end": campaign.quiet_end})
        for ticket in due_tickets(session, campaign, now):
            units = lines.get(ticket.region_id, frozenset())
            if not ticket.caller_phone or not campaign.covers(ticket.type, ticket.channel, units):
                continue
            rate = campaign.rate_for(ticket.type, units)
            value = draw_value(campaign.seed, campaign.key, ticket.number)
            if value >= rate:
                continue
            repeat = surveyed_lately(session, ticket.caller_phone,
                                     now - timedelta(days=campaign.repeat_days))
            survey = Survey(campaign=campaign.key, ticket_id=ticket.id, phone=ticket.caller_phone,
                            region_id=ticket.region_id, ticket_type=ticket.type,
                            seed=campaign.seed, draw=value, rate=rate,
                            valid_hours=campaign.valid_hours, created_at=now,
                            status=SurveyStatus.skipped if repeat else SurveyStatus.awaiting)
            if not repeat:
                survey.message_id = enqueue(
                    session, key=f"survey:{ticket.id}:sms", channel="sms",
                    recipient=ticket.caller_phone, template=TEMPLATE, ticket_id=ticket.id,
                    context={"ticket_no": ticket.number, "ticket_type": ticket.type.label,
                             "valid_hours": f"{campaign.valid_hours:g}"},
                    now=now, to_customer=True, policy=quiet, timezone=timezone).id
            session.add(survey)
            session.flush()  # the next ticket of the same phone sees this one
            counts["skipped" if repeat else "queued"] += 1
    return counts


def close_lapsed(session: Session, *, now: datetime) -> Counter:
    """Awaiting surveys whose validity ran out become 无应答; those whose SMS the outbox gave up
    on become 未送达. Neither is ever counted as satisfied."""
    counts: Counter = Counter()
    rows = session.execute(select(Survey, OutboxMessage)
                           .join(OutboxMessage, Survey.message_id == OutboxMessage.id)
                           .where(Survey.status == SurveyStatus.awaiting)).tuples()
    for survey, message in rows:
        if message.status == OutboxStatus.dead:
            survey.status = SurveyStatus.undelivered
        elif message.sent_at is not None and expires_at(message.sent_at,
                                                        survey.valid_hours) <= now:
            survey.status = SurveyStatus.no_answer
        else:
            continue
        survey.closed_at = now
        counts[survey.status.value] += 1
    return counts
