"""The data and the rules, a room per domain: core, org, tickets, messaging, audit, workforce,
integrations, surveys. Pure.

Importing the package registers every table on the metadata (migrations and tests rely on it)."""

from models.audit.assessment import AuditRecord
from models.cases.case import Case, CaseVersion
from models.core.base import Base
from models.integrations.tables import (
    ApiKey,
    ApiLookup,
    IdempotentRequest,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from models.knowledge.articles import Article, ArticleLog, ArticleToken
from models.messaging.outbox import OutboxMessage
from models.org.accounts import LoginFailure, PortalSession
from models.org.customer import Customer, CustomerLookup
from models.org.organisation import Department, Region, Staff
from models.outages.outage import Outage, OutageArea
from models.quality.tables import (
    IndicatorAppeal,
    Inspection,
    Result,
    Sample,
    ScorecardRevision,
)
from models.statistics import indexes as _statistics_indexes  # noqa: F401 - registers them
from models.statistics.approval import Submission, SubmissionLog
from models.statistics.rollup import RollupDay, RollupRow
from models.statistics.subscriptions import ReportSubscription
from models.surveys.tables import Survey, SurveyReply
from models.tickets.calendar import CalendarOverride
from models.tickets.links import TicketLink
from models.tickets.rules import DeadlineRule
from models.tickets.ticket import (
    Event,
    IntakeToken,
    LifecycleVersion,
    Step,
    Ticket,
    TicketClock,
)
from models.workforce.tables import (
                                     CallRecord,
                                     HandoverItem,
                                     IndicatorReading,
                                     RosterShift,
                                     StaffingPlan,
)

__all__ = [
    "Case",
    "CaseVersion",
    "ApiKey", "ApiLookup", "IdempotentRequest", "WebhookAttempt", "WebhookDelivery",
    "WebhookSubscription",
    "Article", "ArticleLog", "ArticleToken",
    "AuditRecord", "Base", "IndicatorAppeal", "Inspection", "Result", "Sample",
    "ScorecardRevision", "CalendarOverride", "CallRecord", "Customer", "CustomerLookup",
    "DeadlineRule",
    "Department", "Event", "HandoverItem", "IndicatorReading", "IntakeToken", "LifecycleVersion",
    "LoginFailure", "Outage", "OutageArea", "OutboxMessage", "PortalSession", "Region",
    "ReportSubscription", "RollupDay", "RollupRow", "RosterShift", "Staff", "StaffingPlan",
    "Step", "Submission",
    "SubmissionLog", "Survey", "SurveyReply", "Ticket", "TicketClock", "TicketLink",
]
