"""A believable demo centre: one province, three cities with counties, departments, staff,
customers and tickets of every type in various states. Deterministic for a given seed."""

import random
from datetime import datetime, timedelta

import pendulum
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.core.enums import (
    AreaKind,
    Channel,
    DepartmentKind,
    RegionLevel,
    StaffRole,
    TicketStatus,
    TicketType,
    Urgency,
)
from models.org.customer import Customer
from models.org.organisation import Department, Region, Staff
from models.tickets.calendar import WorkCalendar
from models.tickets.intake import TicketIntake
from models.tickets.rules import DeadlineRule
from models.tickets.ticket import Event
from tasks.org.passwords import hash_password
from tasks.tickets.store import create_ticket

PROVINCE = ("32", "江苏省")
CITIES = {
    ("3201", "南京市"): [("320102", "玄武区", AreaKind.urban), ("320115", "江宁区", AreaKind.urban),
                       ("320118", "高淳区", AreaKind.rural)],
    ("3202", "无锡市"): [("320213", "梁溪区", AreaKind.urban), ("320281", "江阴市", AreaKind.rural),
                       ("320282", "宜兴市", AreaKind.rural)],
    ("3205", "苏州市"): [("320508", "姑苏区", AreaKind.urban), ("320581", "常熟市", AreaKind.rural),
                       ("320509", "吴江区", AreaKind.rural)],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国海燕红梅志强文博子涵雨轩"
ROADS = ["中山路", "解放路", "人民路", "建设路", "和平路", "长江路", "太湖大道", "新华街", "文化路", "东风路"]
CONTENT = {
    TicketType.consultation: ["咨询阶梯电价如何计算", "咨询电费账单明细", "咨询峰谷电价办理条件"],
    TicketType.fault_repair: ["家中突然停电，邻居也没电", "小区配电箱冒烟", "楼道线路跳闸无法合闸"],
    TicketType.complaint: ["抄表员态度恶劣", "多次报修未到现场", "停电未提前通知，造成损失"],
    TicketType.report: ["举报有人私拉乱接窃电", "举报工作人员索要好处费"],
    TicketType.opinion: ["营业厅排队时间过长", "电费短信提醒不及时"],
    TicketType.suggestion: ["建议增加网上缴费渠道", "建议夜间抢修提前电话告知"],
    TicketType.business: ["申请低压居民新装", "电能表走字异常申请校验", "欠费缴清后申请复电"],
}
BUSINESS_SUBTYPES = ["low_voltage_connection", "meter_calibration", "reconnection"]


def already_seeded(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Region)))


def seed_demo(session: Session, *, now: datetime, calendar: WorkCalendar,
              rules: list[DeadlineRule], customers: int = 300, tickets: int = 140,
              seed: int = 95598, password: str | None = None) -> dict[str, int]:
    rng = random.Random(seed)
    names = _NameMaker(rng)

    province = Region(code=PROVINCE[0], name=PROVINCE[1], level=RegionLevel.province)
    session.add(province)
    centre = Department(code="D32-CC", name="95598客户服务中心", kind=DepartmentKind.service_centre,
                        region=province)
    session.add(centre)
    duty = _staff(session, names, "S0001", StaffRole.supervisor, centre, None)
    _staff(session, names, "S0002", StaffRole.admin, centre, None)
    for i in range(8):
        _staff(session, names, f"S01{i:02d}", StaffRole.agent, centre, duty)

    counties: list[Region] = []
    for (city_code, city_name), county_rows in CITIES.items():
        city = Region(code=city_code, name=city_name, level=RegionLevel.city, parent=province)
        session.add(city)
        for kind, label in [(DepartmentKind.marketing, "营销部"), (DepartmentKind.metering, "计量中心"),
                            (DepartmentKind.discipline, "纪检监察室")]:
            _department(session, names, f"D{city_code}-{kind.value}", f"{city_name}供电公司{label}",
                        kind, city, duty)
        for code, name, area in county_rows:
            county = Region(code=code, name=name, level=RegionLevel.county, parent=city,
                            area_kind=area)
            session.add(county)
            counties.append(county)
            _department(session, names, f"D{code}-repair", f"{name}抢修班", DepartmentKind.repair,
                        county, duty)
            _department(session, names, f"D{code}-marketing", f"{name}供电服务中心",
                        DepartmentKind.marketing, county, duty)
    session.flush()

    people = []
    for i in range(customers):
        county = rng.choice(counties)
        area = county.area_kind
        if area == AreaKind.rural and rng.random() < 0.15:
            area = AreaKind.remote
        people.append(Customer(
            account_no=f"32{i + 1:08d}", name=names.person(), phone=_mobile(rng),
            address=f"{county.parent.name}{county.name}{rng.choice(ROADS)}{rng.randint(1, 300)}号",
            region=county, area_kind=area,
        ))
    session.add_all(people)
    session.flush()

    statuses = list(TicketStatus)
    types = list(TicketType)
    for i in range(tickets):
        ticket_type = types[i % len(types)]
        person = rng.choice(people)
        received = pendulum.instance(now) - timedelta(minutes=rng.randint(10, 10 * 24 * 60))
        intake = TicketIntake(
            type=ticket_type, phone=person.phone, name=person.name, address=person.address,
            content=rng.choice(CONTENT[ticket_type]), region=person.region.code,
            subtype=rng.choice(BUSINESS_SUBTYPES) if ticket_type == TicketType.business else None,
            channel=rng.choice(list(Channel)),
            urgency=Urgency.urgent if ticket_type == TicketType.fault_repair else Urgency.normal,
            received_at=received,
        )
        ticket = create_ticket(session, intake, now=received, calendar=calendar, rules=rules)
        status = rng.choice(statuses)
        ticket.status = status
        if status == TicketStatus.closed:
            closed = min(pendulum.instance(now), received + timedelta(hours=rng.randint(1, 72)))
            ticket.closed_at = closed
            for clock in ticket.clocks:
                clock.met_at = min(closed, clock.due_at)
            ticket.events.append(Event(at=closed, kind="closed", actor="系统",
                                       message="工单办结归档"))
    session.flush()
    if password:
        # One hash for every demo login: argon2 is slow on purpose, and these are demo accounts.
        demo_hash = hash_password(password)
        for person in session.scalars(select(Staff)):
            person.password_hash = demo_hash
    return {"regions": 1 + len(CITIES) + len(counties), "customers": len(people),
            "tickets": tickets,
            "staff": session.scalar(select(func.count()).select_from(Staff))}


class _NameMaker:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(
            self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))


MOBILE_PREFIXES = [f"13{d}" for d in range(10)] + ["150", "151", "152", "158", "159", "186", "188"]


def _mobile(rng: random.Random) -> str:
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 99999999):08d}"


def _staff(session, names, code, role, department, supervisor) -> Staff:
    person = Staff(code=code, name=names.person(), role=role, phone=_mobile(names.rng),
                   email=f"{code.lower()}@demo.gridline.invalid", department=department,
                   supervisor=supervisor)
    session.add(person)
    return person


def _department(session, names, code, name, kind, region, duty) -> Department:
    department = Department(code=code, name=name, kind=kind, region=region)
    session.add(department)
    head = _staff(session, names, f"{code}-H", StaffRole.head, department, duty)
    for i in (1, 2):
        _staff(session, names, f"{code}-{i}", StaffRole.handler, department, head)
    return department
