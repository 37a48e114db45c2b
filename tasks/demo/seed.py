"""A believable demo centre: one province, three cities with counties, departments, staff,
customers and tickets of every type in various states. Deterministic for a given seed."""

import random
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.core.enums import (
    OPEN_STATUSES,
    AreaKind,
    Channel,
    DepartmentKind,
    RegionLevel,
    StaffRole,
    TicketType,
    Urgency,
)
from models.messaging.outbox import OutboxMessage, OutboxStatus
from models.org.customer import Customer
from models.org.organisation import Department, Region, Staff
from models.tickets.calendar import WorkCalendar
from models.tickets.intake import TicketIntake
from models.tickets.lifecycle import LifecycleSpec, load_lifecycles
from models.tickets.rules import DeadlineRule
from models.tickets.ticket import Ticket
from tasks.core.settings import get_settings
from tasks.demo.history import (
    People,
    Stage,
    choose_received,
    clock_dues,
    draw_gaps,
    plan,
    quiet,
    record_history,
    step_times,
)
from tasks.demo.quality import demo_indicator_appeal, demo_inspections
from tasks.demo.scenarios import CLOSED, CORE, OPEN, Scenario
from tasks.org.passwords import hash_password
from tasks.tickets.lifecycle_store import acknowledge, lifecycle_references
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
              seed: int = 95598, password: str | None = None,
              lifecycles: dict[TicketType, LifecycleSpec] | None = None) -> dict:
    rng = random.Random(seed)
    names = NameMaker(rng)

    province = Region(code=PROVINCE[0], name=PROVINCE[1], level=RegionLevel.province)
    session.add(province)
    centre = Department(code="D32-CC", name="95598客户服务中心", kind=DepartmentKind.service_centre,
                        region=province)
    session.add(centre)
    duty = staff_member(session, names, "S0001", StaffRole.supervisor, centre, None)
    staff_member(session, names, "S0002", StaffRole.admin, centre, None)
    agents = [staff_member(session, names, f"S01{i:02d}", StaffRole.agent, centre, duty)
              for i in range(8)]

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
    callers = [_try_caller(names, k, next(c for c in counties if c.code == code))
               for k, code in enumerate(TRY_COUNTIES, 1)]
    session.add_all(people + callers)
    session.flush()

    specs = {t: quiet(spec) for t, spec in
             (lifecycles or load_lifecycles(get_settings().lifecycles_dir,
                                               lifecycle_references(session))).items()}
    staff = People(session, rng)
    types = list(TicketType)
    lead, neighbours = None, 0
    standing: Counter = Counter()  # how the tickets' waiting deadlines stand: soon, late, ...
    for i in range(tickets):
        scenario = CORE[i] if i < len(CORE) else _filler(rng, types[i % len(types)])
        received = None
        if scenario.follows:  # a neighbour calls a little after the fault ticket before it
            neighbours += 1
            received = lead.received_at + timedelta(minutes=12 * neighbours)
            if received > now - timedelta(minutes=2):
                continue
        ticket, timing = _demo_ticket(session, rng, names, _caller(rng, people, scenario.region),
                              scenario, specs[scenario.type], staff, now=now,
                              calendar=calendar, rules=rules, received=received,
                              agent=agents[i % len(agents)])
        standing[timing] += 1
        if not scenario.follows:
            lead, neighbours = ticket, 0
    session.flush()
    # Made last, so the draws above (names, phones) stay those of the demo without them.
    inspected = demo_inspections(session, now, calendar,
                                 [staff_member(session, names, f"S000{i}", StaffRole.inspector,
                                         _quality_department(session, province), duty)
                                  for i in (3, 4)])
    appeals = demo_indicator_appeal(session, agents[0], now, calendar.timezone)
    if password:
        # One hash for every demo login: argon2 is slow on purpose, and these are demo accounts.
        demo_hash = hash_password(password)
        for person in session.scalars(select(Staff)):
            person.password_hash = demo_hash
    return {"regions": 1 + len(CITIES) + len(counties), "customers": len(people) + len(callers),
            "tickets": session.scalar(select(func.count()).select_from(Ticket)),
            "open": session.scalar(select(func.count()).select_from(Ticket).where(
                Ticket.status.in_(OPEN_STATUSES))),
            "staff": session.scalar(select(func.count()).select_from(Staff)),
            # What the first audit finds: fewer on a weekend or holiday, when working-day
            # deadlines can neither be near nor a little past.
            "about_to_expire": standing["soon"], "overdue": standing["late"],
            "inspections": inspected, "indicator_appeals": appeals,
            "callers": [{"phone": c.phone, "name": c.name, "region": f"{c.region.code} {c.region.name}"}
                        for c in callers]}


# Customers to try intake with, on easy numbers no random customer has (199 is not drawn): a
# town, the fault cluster's district (its known fault is listed), the countryside, two cities.
TRY_COUNTIES = ["320102", "320115", "320118", "320213", "320508"]


def _try_caller(names, k: int, county: Region) -> Customer:
    return Customer(account_no=f"3299{k:06d}", name=names.person(), phone=f"1990000000{k}",
                    address=f"{county.parent.name}{county.name}人民路{k * 11}号", region=county,
                    area_kind=county.area_kind)


def _filler(rng: random.Random, ticket_type: TicketType) -> Scenario:
    """Any caller's ticket: mostly closed, else waiting at one of its type's steps."""
    closed = rng.random() < 0.55
    choices = CLOSED[ticket_type] if closed else rng.choice(OPEN[ticket_type])
    return Scenario(ticket_type, "", Stage(choices, "closed" if closed else "fresh"))


def _caller(rng: random.Random, people: list[Customer], region: str) -> Customer:
    living = [p for p in people if p.region.code == region]
    return rng.choice(living or people)


def _demo_ticket(session, rng, names, person: Customer, scenario: Scenario, spec, staff, *,
                 now, calendar, rules, received: datetime | None, agent: Staff
                 ) -> tuple[Ticket, str]:
    """The ticket as intake stored it, then its history up to where the scenario has it stand,
    and how its waiting deadline stands; a ticket whose clocks cannot stand as asked on this
    date waits with time to spare instead, or else is closed."""
    subtype = scenario.subtype or (rng.choice(BUSINESS_SUBTYPES)
                                   if scenario.type == TicketType.business else None)

    def dues_at(at: datetime, met: dict[str, datetime] | None = None):
        return clock_dues(rules, calendar, scenario.type, subtype, person.area_kind, at, met)

    stage = scenario.stage
    moves, waiting = plan(spec, stage.choices)
    if received is not None:
        gaps = draw_gaps(rng, moves)
    else:
        received, gaps = choose_received(rng, now, stage, moves, waiting, dues_at)
    if received is None and stage.timing in ("soon", "late"):  # waiting still, only not near
        stage = Stage(stage.choices, "fresh")
        received, gaps = choose_received(rng, now, stage, moves, waiting, dues_at)
    if received is None:
        stage = Stage(CLOSED[scenario.type], "closed")
        moves, waiting = plan(spec, stage.choices)
        received, gaps = choose_received(rng, now, stage, moves, waiting, dues_at)
    intake = TicketIntake(
        type=scenario.type, phone=person.phone, name=person.name, address=person.address,
        content=rng.choice(CONTENT[scenario.type]), region=person.region.code, subtype=subtype,
        channel=rng.choice(list(Channel)),
        urgency=Urgency.urgent if scenario.type == TicketType.fault_repair else Urgency.normal,
        received_at=received,
    )
    ticket = create_ticket(session, intake, now=received, calendar=calendar, rules=rules,
                           agent=agent)
    times = step_times(received, moves, gaps, dues_at, now - timedelta(minutes=2))
    record_history(session, ticket, spec, moves, times, staff)
    receipt_sent(session, ticket, spec)
    return ticket, stage.timing


def receipt_sent(session: Session, ticket: Ticket, spec: LifecycleSpec) -> None:
    """The customer's receipt went out when the ticket was received: the run that starts now
    finds it sent (its key) and tells nobody twice."""
    acknowledge(session, ticket, spec, ticket.received_at)
    session.execute(update(OutboxMessage)
                    .where(OutboxMessage.ticket_id == ticket.id,
                           OutboxMessage.status == OutboxStatus.queued)
                    .values(status=OutboxStatus.sent, attempts=1, sent_at=ticket.received_at))


class NameMaker:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(
            self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))


MOBILE_PREFIXES = [f"13{d}" for d in range(10)] + ["150", "151", "152", "158", "159", "186", "188"]


def _mobile(rng: random.Random) -> str:
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 99999999):08d}"


def staff_member(session, names, code, role, department, supervisor) -> Staff:
    person = Staff(code=code, name=names.person(), role=role, phone=_mobile(names.rng),
                   email=f"{code.lower()}@demo.gridline.invalid", department=department,
                   supervisor=supervisor)
    session.add(person)
    return person


def _quality_department(session, province: Region) -> Department:
    found = session.scalar(select(Department).where(Department.code == "D32-QC"))
    if found is None:
        found = Department(code="D32-QC", name="客户服务中心质量管理部", kind=DepartmentKind.quality,
                           region=province)
        session.add(found)
    return found


def _department(session, names, code, name, kind, region, duty) -> Department:
    department = Department(code=code, name=name, kind=kind, region=region)
    session.add(department)
    head = staff_member(session, names, f"{code}-H", StaffRole.head, department, duty)
    for i in (1, 2):
        staff_member(session, names, f"{code}-{i}", StaffRole.handler, department, head)
    return department
