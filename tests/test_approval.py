"""上报 / 退回 on the hand-counted centre: the unit submits, a level above approves or sends back
with a reason, a parent only after all its children, approval locks, changes are logged."""

from datetime import date

import pytest
from sqlalchemy import select

from models.core.enums import AreaKind, DepartmentKind, StaffRole, TicketType
from models.core.errors import InputError
from models.org.organisation import Department, Staff
from models.statistics.approval import Action, ApprovalStatus
from models.tickets.ticket import Ticket
from tasks.core.db import session_scope
from tasks.statistics import approval
from tasks.statistics.figures import Statistics
from tasks.statistics.reports import reports
from tests.statistics_centre import NOW, at, build

MONTH = date(2025, 9, 1)


@pytest.fixture
def centre(db_url):
    with session_scope(db_url) as session:
        made = build(session)
        qinhuai = Department(code="A2-MKT", name="秦淮营销部", kind=DepartmentKind.marketing,
                             region=made["regions"]["320102"])
        session.add_all([
            Staff(code="A-HEAD", name="南京负责人", role=StaffRole.head, phone="1",
                  department=made["departments"]["A-MKT"]),
            Staff(code="A2-HEAD", name="秦淮负责人", role=StaffRole.head, phone="1",
                  department=qinhuai),
            Staff(code="A1-CLERK", name="玄武填报员", role=StaffRole.handler, phone="1",
                  department=made["departments"]["A1-MKT"])])
        session.flush()
        return {code: r.id for code, r in made["regions"].items()}


def test_children_before_parent_send_back_lock_and_log(db_url, centre):
    spec = reports().get("indicators")
    with session_scope(db_url) as session:
        def person(code):
            staff = session.scalar(select(Staff).where(Staff.code == code))
            return staff, Statistics(session, staff)

        def do(code, region, action, **kw):
            staff, stats = person(code)
            row = approval.submission(session, stats, spec, MONTH, centre[region], now=NOW,
                                      timezone="Asia/Shanghai")
            return approval.act(session, stats, staff, spec, row, action, now=NOW, **kw)

        def refused(code, region, action, message, **kw):
            with pytest.raises(InputError) as caught:
                do(code, region, action, **kw)
            assert caught.value.zh == message

        do("A1-CLERK", "320101", Action.edit, entered={"visits": "12"})  # anyone of it enters
        refused("A1-CLERK", "320101", Action.submit, "只有部门负责人、值班长或管理员可以上报、审核或退回")
        xuanwu = do("A1-HEAD", "320101", Action.submit)
        assert (xuanwu.status, xuanwu.computed["工单量"]) == (ApprovalStatus.submitted, "3")
        refused("A1-HEAD", "320101", Action.approve, "只有上级单位可以审核或退回")
        do("A-HEAD", "3201", Action.submit)
        refused("P-ADM", "3201", Action.approve, "下级单位的报表尚未全部审核，不能审核本级")
        refused("A-HEAD", "320101", Action.send_back, "退回须填写原因")
        back = do("A-HEAD", "320101", Action.send_back, reason="走访户数与台账不符")
        assert (back.status, back.reason) == (ApprovalStatus.returned, "走访户数与台账不符")
        do("A1-HEAD", "320101", Action.edit, entered={"visits": "10"})
        do("A1-HEAD", "320101", Action.submit)
        do("A-HEAD", "320101", Action.approve)
        refused("A1-HEAD", "320101", Action.edit, "报表已审核，数据已锁定", entered={"visits": "9"})
        do("A2-HEAD", "320102", Action.submit)
        do("A-HEAD", "320102", Action.approve)
        assert do("P-ADM", "3201", Action.approve).status == ApprovalStatus.approved
        refused("A-HEAD", "320101", Action.send_back, "上级单位已审核，本单位报表已锁定",
                reason="再核对")
        # Approved figures stay as approved, whatever the tickets do since.
        session.add(Ticket(number="LATE", type=TicketType.consultation, content="补录",
                           caller_name="王五", caller_phone="1", address="",
                           region_id=centre["320101"], area_kind=AreaKind.urban,
                           received_at=at(9, 15, 10), rule_version="test"))
        session.flush()
        staff, stats = person("A1-HEAD")
        assert approval.computed(stats, spec, MONTH, centre["320101"], NOW,
                                 "Asia/Shanghai")["工单量"] == "4"
        again = approval.submission(session, stats, spec, MONTH, centre["320101"], now=NOW,
                                    timezone="Asia/Shanghai")
        assert (again.computed, again.entered) == (xuanwu.computed, {"visits": "10"})
        log = [(entry.actor, entry.action, entry.detail.get("changes"))
               for entry in approval.history(session, again)]
        assert log == [("玄武填报员", "edit", {"visits": ["", "12"]}), ("A1-HEAD", "submit", None),
                       ("南京负责人", "send_back", None), ("A1-HEAD", "edit", {"visits": ["12", "10"]}),
                       ("A1-HEAD", "submit", None), ("南京负责人", "approve", None)]
        # The province has no level above: its own deciders approve it, once every city has.
        do("P-ADM", "32", Action.submit)
        refused("P-ADM", "32", Action.approve, "下级单位的报表尚未全部审核，不能审核本级")
        suzhou, suzhou_stats = person("B-SUP")
        with pytest.raises(LookupError):
            approval.submission(session, suzhou_stats, spec, MONTH, centre["3201"], now=NOW,
                                timezone="Asia/Shanghai")
