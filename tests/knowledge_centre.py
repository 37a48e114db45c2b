"""A small centre for the knowledge base's tests: a province, a city, two districts, the centre
(agent, supervisor) and two marketing departments with heads who get the expiry notices."""

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.enums import AreaKind, DepartmentKind, RegionLevel, StaffRole
from models.knowledge.articles import Article
from models.knowledge.drafts import check_draft
from models.knowledge.rules import Action
from models.org.customer import Customer
from models.org.organisation import Department, Region, Staff
from tasks.knowledge import versions

TZ = "Asia/Shanghai"


def build(session: Session, password_hash: str | None = None) -> None:
    regions = {}
    for code, name, level, parent in [
            ("32", "江苏省", RegionLevel.province, None), ("3201", "南京市", RegionLevel.city, "32"),
            ("320101", "玄武区", RegionLevel.county, "3201"),
            ("320102", "秦淮区", RegionLevel.county, "3201")]:
        regions[code] = Region(code=code, name=name, level=level, parent=regions.get(parent),
                               area_kind=AreaKind.urban)
    session.add_all(regions.values())
    depts = {code: Department(code=code, name=name, kind=kind, region=regions[region])
             for code, name, kind, region in [
                 ("CC", "江苏95598中心", DepartmentKind.service_centre, "32"),
                 ("A-MKT", "南京营销部", DepartmentKind.marketing, "3201"),
                 ("A1-MKT", "玄武营销部", DepartmentKind.marketing, "320101")]}
    for code, name, role, dept, email in [
            ("AGENT", "坐席小王", StaffRole.agent, "CC", None),
            ("SUP", "值班长老李", StaffRole.supervisor, "CC", None),
            ("A-HEAD", "南京营销负责人", StaffRole.head, "A-MKT", "a-head@example.cn"),
            ("A-EDIT", "南京营销专责", StaffRole.handler, "A-MKT", None),
            ("A1-HEAD", "玄武营销负责人", StaffRole.head, "A1-MKT", None)]:
        session.add(Staff(code=code, name=name, role=role, phone="13900000000", email=email,
                          department=depts[dept], password_hash=password_hash))
    session.add(Customer(account_no="0101", name="赵女士", phone="13811112222", address="玄武区北京东路1号",
                         region=regions["320101"], area_kind=AreaKind.urban, important=True))
    session.flush()


def staff(session: Session, code: str) -> Staff:
    return session.scalar(select(Staff).where(Staff.code == code))


def draft(**values) -> dict:
    return {"kind": "script", "title": "阶梯电价咨询答复", "body": "居民阶梯电价按年度累计电量分档计价。",
            "valid_from": "2026-11-01", **values}


def publish(session: Session, values: dict, *, now: datetime, author: str = "A-EDIT",
            base: Article | None = None) -> Article:
    """Write, submit and approve a version (A-HEAD approves)."""
    who = staff(session, author)
    if base is None:
        article = versions.create(session, who, check_draft(values), now=now, timezone=TZ)
    else:
        article = versions.new_version(session, who, base, check_draft(values), now=now, timezone=TZ)
    versions.act(session, who, article, Action.submit, now=now)
    return versions.act(session, staff(session, "A-HEAD"), article, Action.approve, now=now)


def local(*parts) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*parts, tzinfo=ZoneInfo(TZ))


DAY = date(2026, 12, 1)
