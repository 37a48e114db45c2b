"""A small centre for quality inspection: a province centre with its supervisor, two city agent
teams (Nanjing: two agents under a team supervisor; Suzhou: one agent), a 质量管理部 with two
inspectors, and tickets closed in August 2026, each received by one agent."""

from datetime import datetime

import pendulum
from sqlalchemy.orm import Session

from models.core.enums import AreaKind, Channel, DepartmentKind, RegionLevel, StaffRole, TicketType
from models.org.organisation import Department, Region, Staff
from models.tickets.ticket import Event, Ticket

MONTH = "2026-08"
# (agent, type, how many): closed in August 2026.
TICKETS = [("A1", TicketType.complaint, 3), ("A1", TicketType.consultation, 2),
           ("A2", TicketType.complaint, 2), ("B1", TicketType.consultation, 3)]
SAMPLED = 8  # the plan takes 2 per agent and type: A1 2+2, A2 2, B1 2


def local(*args: int) -> datetime:
    return pendulum.datetime(*args, tz="Asia/Shanghai").in_timezone("UTC")


def build(session: Session, password_hash: str | None = None) -> dict[str, Staff]:
    regions = {}
    for code, name, level, parent in [("32", "江苏省", RegionLevel.province, None),
                                      ("3201", "南京市", RegionLevel.city, "32"),
                                      ("3205", "苏州市", RegionLevel.city, "32")]:
        regions[code] = Region(code=code, name=name, level=level, parent=regions.get(parent),
                               area_kind=AreaKind.urban)
    depts = {code: Department(code=code, name=name, kind=kind, region=regions[region])
             for code, name, kind, region in [
                 ("CC", "江苏95598中心", DepartmentKind.service_centre, "32"),
                 ("QA", "质量管理部", DepartmentKind.quality, "32"),
                 ("NJ", "南京坐席班", DepartmentKind.service_centre, "3201"),
                 ("SZ", "苏州坐席班", DepartmentKind.service_centre, "3205")]}
    staff: dict[str, Staff] = {}
    for code, name, role, dept, boss in [
            ("SUP", "省值班长", StaffRole.supervisor, "CC", None),
            ("NJ-SUP", "南京值班长", StaffRole.supervisor, "NJ", None),
            ("A1", "王坐席", StaffRole.agent, "NJ", "NJ-SUP"),
            ("A2", "李坐席", StaffRole.agent, "NJ", "NJ-SUP"),
            ("B1", "赵坐席", StaffRole.agent, "SZ", None),
            ("Q1", "质检员甲", StaffRole.inspector, "QA", None),
            ("Q2", "质检员乙", StaffRole.inspector, "QA", None)]:
        staff[code] = Staff(code=code, name=name, role=role, phone="13900000000",
                            department=depts[dept], supervisor=staff.get(boss),
                            password_hash=password_hash)
    session.add_all(staff.values())
    number = 0
    for agent, kind, count in TICKETS:
        for _ in range(count):
            number += 1
            received = local(2026, 8, number, 9)
            ticket = Ticket(number=f"Q{number:03d}", type=kind, channel=Channel.phone,
                            content="质检测试工单", caller_name="张三", caller_phone="13800000000",
                            address="", region=staff[agent].department.region,
                            area_kind=AreaKind.urban, received_at=received, rule_version="test",
                            status="closed", closed_at=local(2026, 8, number, 15))
            ticket.events.append(Event(at=received, kind="received", actor=staff[agent].name,
                                       actor_id=None, message="受理"))
            session.add(ticket)
            session.flush()
            ticket.events[0].actor_id = staff[agent].id
    # One ticket closed in September: outside August's sample.
    late = Ticket(number="Q900", type=TicketType.complaint, channel=Channel.phone,
                  content="九月办结", caller_name="张三", caller_phone="13800000000", address="",
                  region=regions["3201"], area_kind=AreaKind.urban,
                  received_at=local(2026, 8, 31, 9), rule_version="test", status="closed",
                  closed_at=local(2026, 9, 1, 0, 30))
    late.events.append(Event(at=late.received_at, kind="received", actor="王坐席",
                             actor_id=staff["A1"].id, message="受理"))
    session.add(late)
    session.flush()
    return staff
