"""What supervision (督办) reads of the deadlines: the running clocks of the reader's tickets that the
audit would chase now, by its own assessment and each clock's own warning window, with who answers
for each (as the audit finds them), filtered and paged."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, and_, func, select
from sqlalchemy.orm import Session

from models.audit.assessment import AuditPolicy, AuditStage, assess
from models.core.enums import OPEN_STATUSES, StepStatus, TicketType
from models.org.organisation import Department, Region, Staff
from models.tickets.ticket import Step, Ticket, TicketClock
from tasks.org.scope import Scope, region_subtree
from tasks.org.units import department_heads

# Plain rows: a centre can have thousands of clocks overdue, and the page shows a few fields.
COLUMNS = (TicketClock.id, TicketClock.label, TicketClock.due_at, TicketClock.warn_minutes,
           Ticket.number, Ticket.type, Ticket.content, Ticket.region_id,
           Ticket.responsible_name, Step.id.label("step_id"), Step.step_key,
           Step.department_id, Step.assignee_id)


@dataclass(frozen=True)
class RiskQuery:
    """The filters of the list: every one optional."""

    stage: AuditStage | None = None
    unit: str = ""  # a region code: that region and every region under it
    type: TicketType | None = None
    clock: str = ""  # a clock's label, as the page shows it (受理时限, 回复时限, ...)
    responsible: int | None = None  # a staff id


@dataclass(frozen=True)
class AtRisk:
    row: Row
    stage: AuditStage
    responsible_id: int | None
    responsible: str  # name, or 未指定
    department: str


@dataclass
class RiskPage:
    rows: list[AtRisk]
    total: int  # rows matching the filters
    stages: Counter  # matching rows per stage, before the stage filter
    clocks: list[str]  # the choices of the filters, from every row at risk
    people: list[tuple[int, str]]


class Holders:
    """Who answers for an open step, as the chase finds them (tasks/audit/supervision.holder_of):
    its assignee, else the first active head of its department (staff read once per page)."""

    def __init__(self, session: Session):
        self.names = dict(session.execute(select(Staff.id, Staff.name)).all())
        self.departments = dict(session.execute(select(Department.id, Department.name)).all())
        self.heads = department_heads(session)

    def of(self, row: Row) -> tuple[int | None, str, str]:
        staff_id = row.assignee_id or self.heads.get(row.department_id)
        name = self.names.get(staff_id) or row.responsible_name or "未指定"
        return staff_id, name, self.departments.get(row.department_id, "")


def deadlines_at_risk(session: Session, scope: Scope, *, now: datetime, policy: AuditPolicy,
                      wanted: RiskQuery, offset: int, limit: int) -> RiskPage:
    """The clocks the audit would chase now that match `wanted`, earliest due first."""
    # The widest warning window bounds the query; assess() decides each clock.
    widest = session.scalar(select(func.max(TicketClock.warn_minutes))
                            .where(TicketClock.met_at.is_(None))) or 0
    query = (select(*COLUMNS).join(Ticket, TicketClock.ticket_id == Ticket.id)
             .outerjoin(Step, and_(Step.ticket_id == Ticket.id, Step.status == StepStatus.open))
             .where(TicketClock.met_at.is_(None), Ticket.status.in_(OPEN_STATUSES),
                    TicketClock.due_at <= now + timedelta(minutes=widest), scope.sees_ticket())
             .order_by(TicketClock.due_at, TicketClock.id, Step.id.desc()))
    if wanted.type:
        query = query.where(Ticket.type == wanted.type)
    if wanted.unit:
        root = session.scalar(select(Region.id).where(Region.code == wanted.unit))
        query = query.where(Ticket.region_id.in_(region_subtree(session, root) if root else []))
    holders = Holders(session)
    seen, clocks, people, stages, found = set(), set(), {}, Counter(), []
    for row in session.execute(query):
        if row.id in seen:  # a ticket with two open steps: the latest one answers
            continue
        seen.add(row.id)
        stage = assess(row.due_at, timedelta(minutes=row.warn_minutes), now, policy).stage
        if stage is None:
            continue
        staff_id, name, department = holders.of(row)
        clocks.add(row.label)
        if staff_id:
            people[staff_id] = name
        if (wanted.clock and row.label != wanted.clock) or (
                wanted.responsible and staff_id != wanted.responsible):
            continue
        stages[stage] += 1
        if wanted.stage is None or stage == wanted.stage:
            found.append(AtRisk(row, stage, staff_id, name, department))
    return RiskPage(found[offset:offset + limit], len(found), stages, sorted(clocks),
                    sorted(people.items(), key=lambda item: item[1]))
