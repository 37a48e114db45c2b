"""指标申诉: an agent or unit contests a KPI figure over the tickets it names (a customer who asked
for a later visit, a fault outside the company's assets); the rule table routes it to the
department of the named kind nearest the unit (its own region, else the closest above) with a
deadline in working days. That department decides once: upheld, the tickets leave that
indicator's figures everywhere, and the figure recomputed is recorded beside the one contested."""

import calendar
import re
from datetime import date, datetime

import pendulum
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from models.core.enums import StaffRole
from models.core.errors import InputError
from models.org.organisation import Department, Region, Staff
from models.quality.tables import IndicatorAppeal, appeal_tickets
from models.statistics.indicators import Indicator, Subject
from tasks.messaging.outbox import enqueue_many, messages_to
from tasks.org.scope import SUPERVISING_ROLES, region_subtree
from tasks.quality.files import QUALITY_DIR, indicator_rules
from tasks.statistics.aggregations import indicators
from tasks.statistics.figures import Statistics, Unit, local_period, shown
from tasks.statistics.rollup import Touched, mark_now
from tasks.tickets.calendar_store import centre_calendar

MAX_TICKETS = 200
MAX_TEXT = 2000


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


def appealable(folder=QUALITY_DIR) -> list[Indicator]:
    """The indicators the rule table takes appeals against, as the filing form lists them."""
    rules = indicator_rules(folder)
    return [i for i in indicators().indicators if i.key in rules and i.subject != Subject.call]


def _figure(session: Session, filer: Staff, indicator: Indicator, month: date, now: datetime,
            timezone: str) -> tuple[Statistics, object, str]:
    last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    stats = Statistics(session, filer)
    period = local_period(month, last, timezone, now)
    return stats, period, shown(indicator.kind, stats.figures(
        indicator, period, Unit(filer.department.region_id)).total.value)


def parse_month(text: str) -> date:
    """A month as forms and the CLI give it, YYYY-MM: its first day."""
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError:
        raise InputError("month", "月份格式无效，应为 YYYY-MM", f"not a month: {text!r}") from None


def _numbers(text: str | list[str]) -> list[str]:
    items = text if isinstance(text, list) else re.split(r"[,，、\s]+", text)
    numbers = list(dict.fromkeys(n.strip() for n in items if n.strip()))
    if not numbers:
        raise InputError("tickets", "请填写申诉涉及的工单编号", "name the tickets contested")
    if len(numbers) > MAX_TICKETS:
        raise InputError("tickets", f"一次申诉最多{MAX_TICKETS}张工单",
                         f"at most {MAX_TICKETS} tickets per appeal")
    return numbers


def file_appeal(session: Session, staff: Staff, indicator_key: str, month: date,
                tickets: str | list[str], reason: str, *, now: datetime, timezone: str,
                folder=QUALITY_DIR) -> IndicatorAppeal:
    """One appeal of the staff member's unit against the month's figure of an indicator."""
    rule = indicator_rules(folder).get(indicator_key)
    indicator = next((i for i in indicators().indicators if i.key == indicator_key), None)
    if rule is None or indicator is None or indicator.subject == Subject.call:
        raise InputError("indicator", "该指标不受理申诉", f"no appeal rule for {indicator_key}")
    reason = reason.strip()
    if not reason or len(reason) > MAX_TEXT:
        raise InputError("reason", f"申诉须填写理由（不超过{MAX_TEXT}字）", "an appeal needs a reason")
    month = month.replace(day=1)
    if month > pendulum.instance(now).in_timezone(timezone).date():
        raise InputError("month", "不能对尚未开始的月份申诉", "the month has not begun")
    numbers = _numbers(tickets)
    stats, period, contested = _figure(session, staff, indicator, month, now, timezone)
    region = staff.department.region
    counted = stats.counted(indicator, period, Unit(region.id), numbers)
    outside = [n for n in numbers if n not in counted]
    if outside:
        raise InputError("tickets", f"以下工单不在本单位该月的“{indicator.label}”统计中："
                         f"{'、'.join(outside)}", f"not counted: {outside}")
    already = session.scalars(
        select(IndicatorAppeal.id).join(appeal_tickets)
        .where(IndicatorAppeal.indicator == indicator_key,
               appeal_tickets.c.ticket_id.in_(counted.values()),
               or_(IndicatorAppeal.upheld.is_(None), IndicatorAppeal.upheld.is_(True)))).first()
    if already is not None:
        raise InputError("tickets", f"其中有工单已在第{already}号申诉中", f"already in appeal {already}")
    appeal = IndicatorAppeal(
        indicator=indicator_key, region_id=region.id, period_start=month, figure=contested,
        reason=reason, filed_by_id=staff.id, filed_at=now, department_kind=rule.department,
        department_id=_answering(session, region, rule.department).id,
        due_at=centre_calendar(session).add_working_days(now, rule.days))
    session.add(appeal)
    session.flush()
    session.execute(appeal_tickets.insert(), [{"appeal_id": appeal.id, "ticket_id": t}
                                              for t in counted.values()])
    session.refresh(appeal)
    _tell(session, appeal, indicator, "filed", _deciders(session, appeal), now, timezone)
    return appeal


def _deciders(session: Session, appeal: IndicatorAppeal) -> list[Staff]:
    return list(session.scalars(select(Staff).where(
        Staff.department_id == appeal.department_id, Staff.active,
        Staff.role.in_([StaffRole.head, StaffRole.supervisor])).order_by(Staff.id)))


def chase_overdue(session: Session, *, now: datetime, timezone: str) -> int:
    """Remind the deciders of each appeal past its deadline and still undecided, once a day
    (the key names the centre's date). Returns how many reminders were queued."""
    day = pendulum.instance(now).in_timezone(timezone).date()
    queued = 0
    for appeal in session.scalars(select(IndicatorAppeal).where(
            IndicatorAppeal.upheld.is_(None), IndicatorAppeal.due_at <= now)
            .order_by(IndicatorAppeal.id)):
        queued += _tell(session, appeal, indicators().get(appeal.indicator), f"overdue:{day}",
                        _deciders(session, appeal), now, timezone, template="overdue")
    return queued


def _tell(session: Session, appeal: IndicatorAppeal, indicator: Indicator, event: str,
          people, now: datetime, timezone: str, template: str | None = None) -> int:
    """The routed department's deciders when it is filed or overdue, the filer when it is
    decided: each once per event (its outbox key)."""
    context = {"appeal_no": appeal.id, "indicator": indicator.label, "unit": appeal.region.name,
               "period": f"{appeal.period_start:%Y年%m月}", "value": appeal.figure,
               "name": appeal.filed_by.name, "department": appeal.department.name,
               "deadline": appeal.due_at, "state": appeal.state, "corrected": appeal.corrected,
               "opinion": appeal.opinion or ""}
    return enqueue_many(session, [intent for person in people for intent in messages_to(
        person, key=f"indicator-appeal:{appeal.id}:{event}:{person.id}",
        template=f"indicator_appeal_{template or event}", context=context)],
        now=now, timezone=timezone)


def may_decide(staff: Staff, appeal: IndicatorAppeal) -> bool:
    """The routed department's head or supervisor, not the one who filed it."""
    return (staff.department_id == appeal.department_id and staff.role in SUPERVISING_ROLES
            and staff.id != appeal.filed_by_id)


def decide(session: Session, staff: Staff, appeal: IndicatorAppeal, upheld: bool, opinion: str,
           *, now: datetime, timezone: str) -> IndicatorAppeal:
    """成立 or 不成立, once: of two people deciding at once, the second is told it is decided."""
    if staff.id == appeal.filed_by_id:
        raise InputError("appeal", "申诉人不能处理自己的申诉", "the one appealing does not decide")
    if not may_decide(staff, appeal):
        raise InputError("appeal", "只有受理部门的负责人可以处理该申诉",
                         "only the routed department's head or supervisor decides")
    opinion = opinion.strip()
    if not opinion or len(opinion) > MAX_TEXT:
        raise InputError("opinion", f"请填写处理意见（不超过{MAX_TEXT}字）", "an opinion is needed")
    won = session.execute(
        update(IndicatorAppeal).where(IndicatorAppeal.id == appeal.id,
                                      IndicatorAppeal.upheld.is_(None))
        .values(upheld=upheld, decided_by_id=staff.id, decided_at=now, opinion=opinion)
        .execution_options(synchronize_session=False)).rowcount == 1
    session.refresh(appeal)
    if not won:
        raise InputError("appeal", "该申诉已处理", "already decided")
    indicator = indicators().get(appeal.indicator)
    if upheld:  # the figure as every screen now shows it, the tickets taken out
        mark_now(session, Touched(appeals={appeal.id}))  # no rolled day may still count them
        _, _, appeal.corrected = _figure(session, appeal.filed_by, indicator,
                                         appeal.period_start, now, timezone)
        session.flush()
    _tell(session, appeal, indicator, "decided", [appeal.filed_by], now, timezone)
    return appeal


def _seen_by(session: Session, staff: Staff):
    """What the staff member filed, what their department decides, and for supervisors those of
    their unit and below."""
    units = region_subtree(session, staff.department.region_id) \
        if staff.role in SUPERVISING_ROLES else frozenset()
    return or_(IndicatorAppeal.filed_by_id == staff.id,
               IndicatorAppeal.department_id == staff.department_id,
               IndicatorAppeal.region_id.in_(units))


def get_appeal(session: Session, staff: Staff, appeal_id: int) -> IndicatorAppeal:
    """An appeal the staff member may see (else not found, as if it did not exist)."""
    found = session.scalar(select(IndicatorAppeal).where(IndicatorAppeal.id == appeal_id,
                                                         _seen_by(session, staff)))
    if found is None:
        raise LookupError(appeal_id)
    return found


def list_appeals(session: Session, staff: Staff, *, pending_only: bool = False) -> list[IndicatorAppeal]:
    """The appeals the staff member sees, undecided first, soonest due first."""
    query = (select(IndicatorAppeal).where(_seen_by(session, staff))
             .options(selectinload(IndicatorAppeal.tickets))
             .order_by(IndicatorAppeal.upheld.is_not(None), IndicatorAppeal.due_at,
                       IndicatorAppeal.id))
    if pending_only:
        query = query.where(IndicatorAppeal.upheld.is_(None))
    return list(session.scalars(query))
