"""What a staff member may see and do (seed 001: access rights by province, city and unit).

Department staff see the tickets their department has a step on; centre staff (agents,
supervisors, admins) see every ticket of their department's region and the regions under it.
Everyone acts only on the steps of their own department.
"""

from functools import cached_property

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session, aliased

from models.core.enums import StaffRole
from models.org.organisation import Region, Staff
from models.quality import roles as quality_roles
from models.tickets.ticket import Step, Ticket

CENTRE_ROLES = {StaffRole.agent, StaffRole.supervisor, StaffRole.admin}
INTAKE_ROLES = {StaffRole.agent, StaffRole.supervisor, StaffRole.admin}
SUPERVISING_ROLES = {StaffRole.head, StaffRole.supervisor, StaffRole.admin}
_OWN_STEP = aliased(Step)  # not the outer query's Step, which may be joined already


def region_subtree(session: Session, root_id: int) -> frozenset[int]:
    children: dict[int | None, list[int]] = {}
    for region_id, parent_id in session.execute(select(Region.id, Region.parent_id)):
        children.setdefault(parent_id, []).append(region_id)
    found, todo = set(), [root_id]
    while todo:
        current = todo.pop()
        found.add(current)
        todo.extend(children.get(current, []))
    return frozenset(found)


class Scope:
    def __init__(self, session: Session, staff: Staff):
        self.session, self.staff = session, staff

    @cached_property
    def region_ids(self) -> frozenset[int]:
        """The department's region and every region under it (asked only where it matters)."""
        return region_subtree(self.session, self.staff.department.region_id)

    def sees_ticket(self) -> ColumnElement[bool]:
        """A WHERE clause on Ticket: the tickets this person may see."""
        mine = _OWN_STEP
        own_steps = exists().where(mine.ticket_id == Ticket.id,
                                   mine.department_id == self.staff.department_id)
        if self.staff.role in CENTRE_ROLES:
            return or_(Ticket.region_id.in_(self.region_ids), own_steps)
        return own_steps

    def acts_on(self, step: Step) -> bool:
        return step.department_id == self.staff.department_id

    @property
    def takes_calls(self) -> bool:
        return self.staff.role in INTAKE_ROLES

    @property
    def calls_back(self) -> bool:
        """The centre calls customers back: it may see a caller's full number (recorded)."""
        return self.staff.role in CENTRE_ROLES

    @property
    def supervises(self) -> bool:
        return self.staff.role in SUPERVISING_ROLES

    @property
    def inspects(self) -> bool:
        """质检: scores sampled tickets."""
        return quality_roles.inspects(self.staff)

    @property
    def reviews_appeals(self) -> bool:
        return quality_roles.reviews(self.staff)

    @property
    def sees_quality(self) -> bool:
        """Sees the quality results of the unit and below (an agent sees only their own)."""
        return self.supervises or self.inspects
