"""What the admin pages read and do: the organisation tree and the staff of the admin's own unit
and the units under it; deactivating a staff member, and resetting a password (a new one-time
set-up link; nobody, the admin included, ever learns the password)."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from models.core.errors import InputError
from models.org.organisation import Department, Region, Staff
from tasks.core.paging import Listing
from tasks.org.scope import Scope
from tasks.org.sessions import disable_staff, end_all_sessions
from tasks.org.setup_links import send_setup_link


@dataclass
class UnitNode:
    region: Region
    departments: list[tuple[Department, int, int]] = field(default_factory=list)  # active, all
    children: list["UnitNode"] = field(default_factory=list)


def org_tree(session: Session, me: Scope) -> list[UnitNode]:
    """The admin's unit with every unit, department and head count under it (three queries)."""
    regions = session.scalars(select(Region).where(Region.id.in_(me.region_ids))
                              .order_by(Region.code)).all()
    nodes = {r.id: UnitNode(r) for r in regions}
    counts = {(department_id, active): number for department_id, active, number in session.execute(
        select(Staff.department_id, Staff.active, func.count()).group_by(Staff.department_id,
                                                                         Staff.active))}
    for department in session.scalars(select(Department).where(
            Department.region_id.in_(me.region_ids)).order_by(Department.code)):
        active = counts.get((department.id, True), 0)
        nodes[department.region_id].departments.append(
            (department, active, active + counts.get((department.id, False), 0)))
    roots = []
    for region in regions:
        parent = nodes.get(region.parent_id)
        (parent.children if parent is not None else roots).append(nodes[region.id])
    return roots


def staff_page(session: Session, me: Scope, *, search: str = "", department: str = "",
               page: int = 1, size: int = 25) -> Listing:
    """Staff of the admin's scope, by department and code; `search` matches code or name."""
    query = (select(Staff).join(Department, Staff.department_id == Department.id)
             .where(Department.region_id.in_(me.region_ids)))
    if department:
        query = query.where(Department.code == department)
    if search:
        query = query.where(or_(Staff.code.contains(search, autoescape=True),
                                Staff.name.contains(search, autoescape=True)))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.options(joinedload(Staff.department))
                           .order_by(Department.code, Staff.code)
                           .offset((page - 1) * size).limit(size)).all()
    return Listing(list(rows), total)


def staff_in_scope(session: Session, me: Scope, code: str) -> Staff:
    staff = session.scalar(select(Staff).join(Department, Staff.department_id == Department.id)
                           .where(Staff.code == code, Department.region_id.in_(me.region_ids)))
    if staff is None:
        raise InputError("code", "工号不存在或不在您的管理范围内", f"no staff {code!r} in your scope")
    return staff


def deactivate(session: Session, me: Scope, code: str, now: datetime) -> Staff:
    staff = staff_in_scope(session, me, code)
    if staff.id == me.staff.id:
        raise InputError("code", "不能停用自己的账号", "you cannot deactivate yourself")
    disable_staff(session, staff, now)
    return staff


def reset_password(session: Session, me: Scope, code: str, now: datetime) -> Staff:
    """The old password stops working, every session ends, a set-up link goes to the person."""
    staff = staff_in_scope(session, me, code)
    if not staff.active:
        raise InputError("code", "账号已停用，请先在机构文件中恢复在岗", "the account is deactivated")
    staff.password_hash = None
    end_all_sessions(session, staff.id, now)
    send_setup_link(session, staff, now, reason=f"reset:{now.isoformat()}")
    return staff
