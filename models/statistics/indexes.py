"""Indexes the statistics read through: a period of tickets, of completed steps and of calls is
a range scan, not a walk over the year (bench/dashboard_bench.py)."""

from sqlalchemy import Index

from models.tickets.ticket import Step, Ticket
from models.workforce.tables import CallRecord

tickets_received_index = Index("ix_tickets_received_at", Ticket.received_at)
steps_completed_index = Index("ix_steps_completed_at", Step.completed_at)
calls_offered_index = Index("ix_call_records_offered_at", CallRecord.offered_at)
# Repeat faults: another fault at the same address or on the same line in the 30 days before.
tickets_address_index = Index("ix_tickets_address_received_at", Ticket.address, Ticket.received_at)
tickets_line_index = Index("ix_tickets_line_received_at", Ticket.line, Ticket.received_at)
