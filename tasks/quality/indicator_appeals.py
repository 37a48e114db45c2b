"""指标申诉: an agent or unit contests a KPI figure; the rule table routes it to the department of
the named kind nearest the unit (its own region, else the closest above) with a deadline in
working days; that department decides, and an upheld appeal records the corrected figure."""

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.errors import InputError
from models.org.organisation import Department, Region, Staff
from models.quality.tables import IndicatorAppeal
from tasks.quality.files import QUALITY_DIR, indicator_rules
from tasks.tickets.calendar_store import centre_calendar


def _answering(session: Session, region: Region, kind) -> Department:
    cursor: Region | None = region
    while cursor is not None:
        found = session.scalar(select(Department).where(Department.region_id == cursor.id,
                                                        Department.kind == kind)
                               .order_by(Department.code).limit(1))
        if found is not None:
            return found
        cursor = cursor.parent
    raise InputError("indicator", f"没有负责该指标申诉的{kind.label}",
                     f"no {kind} department above {region.code}")


def file_appeal(session: Session, staff: Staff, indicator: str, period_start: date,
                figure: str, reason: str, *, now: datetime,
                folder=QUALITY_DIR) -> IndicatorAppeal:
    rule = indicator_rules(folder).get(indicator)
    if rule is None:
        raise InputError("indicator", "该指标不受理申诉", f"no appeal rule for {indicator}")
    if not reason.strip():
        raise InputError("reason", "申诉须填写理由", "an appeal needs a reason")
    region = staff.department.region
    appeal = IndicatorAppeal(
        indicator=indicator, region_id=region.id, period_start=period_start, figure=figure,
        reason=reason.strip(), filed_by_id=staff.id, filed_at=now, department_kind=rule.department,
        department_id=_answering(session, region, rule.department).id,
        due_at=centre_calendar(session).add_working_days(now, rule.days))
    session.add(appeal)
    session.flush()
    return appeal


def decide(session: Session, staff: Staff, appeal: IndicatorAppeal, upheld: bool, *,
           now: datetime, corrected: str = "") -> IndicatorAppeal:
    if appeal.upheld is not None:
        raise InputError("appeal", "该申诉已处理", "already decided")
    if staff.department_id != appeal.department_id:
        raise InputError("appeal", "只有受理部门可以处理该申诉", "only the routed department decides")
    if upheld and not corrected.strip():
        raise InputError("corrected", "申诉成立须填写更正后的指标值", "an upheld appeal needs the figure")
    appeal.upheld, appeal.decided_by_id, appeal.decided_at = upheld, staff.id, now
    appeal.corrected = corrected.strip() if upheld else None
    session.flush()
    return appeal
