"""Who answers for a place: the nearest department of a kind from a region upward, and its first
active person in a role. Every "who is told" of a ticket starts from the ticket's own unit, so a
Suzhou ticket reaches Suzhou's centre, not the first centre in the database."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.enums import DepartmentKind, StaffRole
from models.org.organisation import Department, Region, Staff


def nearest_department(session: Session, region: Region | None,
                       kind: DepartmentKind) -> Department | None:
    place = region
    while place is not None:
        department = session.scalar(select(Department).where(
            Department.kind == kind, Department.region_id == place.id).order_by(Department.id))
        if department is not None:
            return department
        place = place.parent
    return None


def first_staff(session: Session, department_id: int, role: StaffRole) -> Staff | None:
    """The first active person in that role (deactivated staff are told nothing)."""
    return session.scalar(select(Staff).where(
        Staff.department_id == department_id, Staff.role == role, Staff.active)
        .order_by(Staff.id))


def department_heads(session: Session) -> dict[int, int]:
    """{department id: staff id} of each department's first active head, read at once (the
    audit's and 督办's pages ask for hundreds); first_staff's rule."""
    heads: dict[int, int] = {}
    for staff_id, department_id in session.execute(
            select(Staff.id, Staff.department_id).where(Staff.role == StaffRole.head, Staff.active)
            .order_by(Staff.id.desc())):  # the first head of a department is written last
        heads[department_id] = staff_id
    return heads


def duty_supervisor(session: Session, region: Region | None) -> Staff | None:
    """The duty supervisor of the service centre nearest the region, going up."""
    centre = nearest_department(session, region, DepartmentKind.service_centre)
    return centre and first_staff(session, centre.id, StaffRole.supervisor)
