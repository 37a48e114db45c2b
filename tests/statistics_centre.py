"""A small centre whose figures were counted by hand (see the table in test_statistics.py):
a province with two cities, tickets of 2025-09-30 (one re-dispatched from a county department to
the city's, one received at 23:50 and handled after midnight into the National Day holiday),
repairs against their norms, a repeat fault, a reopened callback, and the day's calls."""

from datetime import date, datetime, timedelta

import pendulum
from sqlalchemy.orm import Session

from models.core.enums import AreaKind, Channel, DepartmentKind, RegionLevel, StaffRole, TicketType
from models.org.organisation import Department, Region, Staff
from models.tickets.calendar import WorkCalendar
from models.tickets.ticket import Step, Ticket, TicketClock
from models.workforce.tables import CallRecord

DAY = date(2025, 9, 30)
NOW = pendulum.datetime(2025, 10, 10, 12, 0, tz="Asia/Shanghai").in_timezone("UTC")
# The 2025 National Day holiday and its make-up Saturday, as the official calendar has them.
HOLIDAY = WorkCalendar(overrides={**{date(2025, 10, d): False for d in range(1, 9)},
                                  date(2025, 10, 11): True})


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return pendulum.datetime(2025, month, day, hour, minute, tz="Asia/Shanghai").in_timezone("UTC")


def build(session: Session, password_hash: str | None = None) -> dict:
    regions = {}
    for code, name, level, parent in [
            ("32", "江苏省", RegionLevel.province, None), ("3201", "南京市", RegionLevel.city, "32"),
            ("320101", "玄武区", RegionLevel.county, "3201"),
            ("320102", "秦淮区", RegionLevel.county, "3201"),
            ("3205", "苏州市", RegionLevel.city, "32"),
            ("320501", "姑苏区", RegionLevel.county, "3205")]:
        regions[code] = Region(code=code, name=name, level=level,
                               parent=regions.get(parent), area_kind=AreaKind.urban)
    depts = {}
    for code, name, kind, region in [
            ("CC", "江苏95598中心", DepartmentKind.service_centre, "32"),
            ("A1-MKT", "玄武营销部", DepartmentKind.marketing, "320101"),
            ("A-MKT", "南京营销部", DepartmentKind.marketing, "3201"),
            ("B-CC", "苏州分中心", DepartmentKind.service_centre, "3205"),
            ("B1-MKT", "姑苏营销部", DepartmentKind.marketing, "320501")]:
        depts[code] = Department(code=code, name=name, kind=kind, region=regions[region])
    for code, role, dept in [("P-ADM", StaffRole.admin, "CC"), ("B-SUP", StaffRole.supervisor, "B-CC"),
                             ("A1-HEAD", StaffRole.head, "A1-MKT")]:
        session.add(Staff(code=code, name=code, role=role, phone="13900000000",
                          department=depts[dept], password_hash=password_hash))
    n = iter(range(1, 100))

    def ticket(kind, channel, region, received, address="", clocks=(), steps=()):
        t = Ticket(number=f"T{next(n)}", type=kind, channel=channel, content="统计测试",
                   caller_name="张三", caller_phone="13800000000", address=address,
                   region=regions[region], area_kind=AreaKind.urban, received_at=received,
                   rule_version="test")
        for clock, due, met in clocks:
            t.clocks.append(TicketClock(clock=clock, label={"contact": "联系客户", "reply": "处理答复",
                                                          "arrive": "到达现场",
                                                          "restore": "恢复供电"}[clock],
                                        due_at=due, met_at=met, warn_minutes=1440))
        for key, dept, opened, done, attempt, form, *result in steps:
            t.steps.append(Step(step_key=key, department=depts[dept], opened_at=opened,
                                completed_at=done, attempt=attempt, form=form,
                                status="done" if done else "open",
                                form_data={"result": result[0]} if result else None))
        session.add(t)
        return t

    # T1: returned by the county's department, re-dispatched by the centre to the city's.
    ticket(TicketType.complaint, Channel.phone, "320101", at(9, 30, 9),
           clocks=[("contact", at(10, 1, 9), at(9, 30, 12, 20))],
           steps=[("handle", "A1-MKT", at(9, 30, 9, 10), at(9, 30, 10, 10), 1, "handling"),
                  ("redispatch", "CC", at(9, 30, 10, 10), at(9, 30, 10, 20), 1, "redispatch"),
                  ("handle", "A-MKT", at(9, 30, 10, 20), at(9, 30, 12, 20), 2, "handling"),
                  ("callback", "CC", at(9, 30, 12, 20), at(9, 30, 12, 30), 1, "callback", "满意")])
    # T2: received at 23:50, handled after midnight; its reply due after the holiday.
    received = at(9, 30, 23, 50)
    ticket(TicketType.complaint, Channel.web, "320101", received,
           clocks=[("contact", received + timedelta(hours=24), None),
                   ("reply", HOLIDAY.add_working_days(received, 4), at(10, 9, 10))],
           steps=[("handle", "A1-MKT", received, at(10, 1, 0, 30), 1, "handling")])
    # T3, T4: repairs at one address; T3 arrives in time and restores late, T4 is late twice.
    ticket(TicketType.fault_repair, Channel.phone, "320102", at(9, 30, 8), "中山路1号",
           clocks=[("arrive", at(9, 30, 8, 45), at(9, 30, 8, 30)),
                   ("restore", at(9, 30, 11, 30), at(9, 30, 12))])
    ticket(TicketType.fault_repair, Channel.phone, "320102", at(9, 30, 14), "中山路1号",
           clocks=[("arrive", at(9, 30, 14, 45), at(9, 30, 15)),
                   ("restore", at(9, 30, 18), None)])
    # T5: Suzhou; the customer unsatisfied at the first callback.
    ticket(TicketType.consultation, Channel.wechat, "320501", at(9, 30, 10),
           clocks=[("reply", at(10, 1, 10), at(9, 30, 10, 30))],
           steps=[("handle", "B1-MKT", at(9, 30, 10), at(9, 30, 10, 30), 1, "handling"),
                  ("callback", "B-CC", at(9, 30, 10, 30), at(9, 30, 10, 40), 1, "callback", "不满意"),
                  ("callback", "B-CC", at(9, 30, 11), at(9, 30, 11, 20), 2, "callback", "满意")])
    # T6: the day before, still overdue; T7: today, about to expire.
    ticket(TicketType.consultation, Channel.phone, "320101", at(9, 29, 10),
           clocks=[("reply", at(9, 30, 10), None)])
    ticket(TicketType.consultation, Channel.phone, "320101", at(10, 10, 9),
           clocks=[("reply", at(10, 10, 13), None)])
    for i, (offered, answered, wait) in enumerate([
            (at(9, 30, 9), True, 5), (at(9, 30, 9, 5), True, 15), (at(9, 30, 23, 59), True, 30),
            (at(9, 30, 10), False, 40), (at(9, 29, 10), True, 1)]):
        session.add(CallRecord(call_id=f"C{i}", offered_at=offered, group="居民", answered=answered,
                               wait_s=wait, talk_s=60, wrap_s=10))
    session.flush()
    return {"regions": regions, "departments": depts}


def unit_ids(made: dict) -> dict[str, int]:
    """What build made, as ids by code: regions' and departments' (their codes do not clash)."""
    return {code: r.id for code, r in made["regions"].items()} | {
        code: d.id for code, d in made["departments"].items()}
