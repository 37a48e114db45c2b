"""Who receives a scheduled report by e-mail: the active staff, with an e-mail address, of the
report's roles (reports.yaml), less those an admin took off, plus those an admin added. An admin
manages only the staff of their own scope; each subscriber's mail holds only their scope anyway."""

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.errors import InputError
from models.org.organisation import Department, Staff
from models.statistics.reports import ReportSpec
from models.statistics.subscriptions import ReportSubscription


def _choices(session: Session, report: str) -> dict[int, bool]:
    return dict(session.execute(select(ReportSubscription.staff_id, ReportSubscription.subscribed)
                                .where(ReportSubscription.report == report)).all())


def subscribers(session: Session, spec: ReportSpec,
                region_ids: Collection[int] | None = None) -> list[Staff]:
    """Everyone the report is mailed to (of `region_ids` only, if given), by staff code."""
    choices = _choices(session, spec.key)
    query = select(Staff).where(Staff.active.is_(True), Staff.email.is_not(None),
                                Staff.email != "").order_by(Staff.code)
    if region_ids is not None:
        query = query.join(Department, Department.id == Staff.department_id).where(
            Department.region_id.in_(region_ids))
    return [s for s in session.scalars(query)
            if choices.get(s.id, s.role in spec.subscribers)]


@dataclass
class Listed:
    staff: Staff
    by_role: bool  # a subscriber by role (not added by hand)


def listing(session: Session, spec: ReportSpec, region_ids: Collection[int]) -> list[Listed]:
    choices = _choices(session, spec.key)
    return [Listed(s, s.id not in choices) for s in subscribers(session, spec, region_ids)]


def _staff_in_scope(session: Session, code: str, region_ids: Collection[int]) -> Staff:
    staff = session.scalar(select(Staff).where(Staff.code == code))
    if staff is None or staff.department.region_id not in region_ids:
        raise InputError("code", f"您的管辖范围内没有工号为 {code} 的员工",
                         f"no staff {code!r} in your units")
    return staff


def _choose(session: Session, spec: ReportSpec, staff: Staff, subscribed: bool) -> None:
    row = session.scalar(select(ReportSubscription).where(
        ReportSubscription.report == spec.key, ReportSubscription.staff_id == staff.id))
    if subscribed == (staff.role in spec.subscribers):
        if row is not None:  # back to what the role says: no exception kept
            session.delete(row)
    elif row is None:
        session.add(ReportSubscription(report=spec.key, staff_id=staff.id, subscribed=subscribed))
    else:
        row.subscribed = subscribed
    session.flush()


def subscribe(session: Session, spec: ReportSpec, code: str,
              region_ids: Collection[int]) -> Staff:
    if not code:
        raise InputError("code", "请填写员工工号", "a staff code is required")
    staff = _staff_in_scope(session, code, region_ids)
    if not staff.active:
        raise InputError("code", f"员工 {staff.name}（{code}）已停用，不能订阅",
                         f"staff {code!r} is inactive")
    if not staff.email:
        raise InputError("code", f"员工 {staff.name}（{code}）没有电子邮箱，收不到报表",
                         f"staff {code!r} has no e-mail address")
    if staff in subscribers(session, spec, region_ids):
        raise InputError("code", f"{staff.name}（{code}）已在{spec.label}的收件人中",
                         f"staff {code!r} already receives {spec.key}")
    _choose(session, spec, staff, True)
    return staff


def unsubscribe(session: Session, spec: ReportSpec, code: str,
                region_ids: Collection[int]) -> Staff:
    staff = _staff_in_scope(session, code, region_ids)
    if staff not in subscribers(session, spec, region_ids):
        raise InputError("code", f"{staff.name}（{code}）不在{spec.label}的收件人中",
                         f"staff {code!r} does not receive {spec.key}")
    _choose(session, spec, staff, False)
    return staff
