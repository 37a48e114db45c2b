"""The data and the rules: tables, forms, the working calendar, deadline rules. Pure."""

from models.audit import AuditRecord
from models.base import Base
from models.calendar import CalendarOverride, WorkCalendar
from models.customer import Customer
from models.org import Department, Region, Staff
from models.outbox import OutboxMessage
from models.portal import (LoginFailure, inbox_index,  # noqa: F401  (the portal's indexes)
                           ticket_department_index)
from models.rules import DeadlineRule
from models.ticket import Event, Step, Ticket, TicketClock
from models.workforce import (CallRecord, HandoverItem, IndicatorReading, RosterShift,
                              StaffingPlan)

__all__ = [
    "AuditRecord", "Base", "CalendarOverride", "CallRecord", "Customer", "DeadlineRule",
    "Department", "Event", "HandoverItem", "IndicatorReading", "LoginFailure", "OutboxMessage",
    "Region", "RosterShift", "Staff", "StaffingPlan", "Step", "Ticket", "TicketClock",
    "WorkCalendar",
]
