"""What the portal's pages read by: indexes only, the tables are the lifecycle's."""

from sqlalchemy import Index

from models.ticket import Step

# The inbox: a department's open steps, soonest due first, as one index range scan.
inbox_index = Index("ix_steps_department_status_due", Step.department_id, Step.status, Step.due_at)
# Rights: "has my department a step on this ticket" is one index probe, not a walk over the
# department's steps.
ticket_department_index = Index("ix_steps_ticket_department", Step.ticket_id, Step.department_id)
