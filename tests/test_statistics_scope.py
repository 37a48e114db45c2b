"""Issue 19's last paths, on the hand-counted centre (tests/statistics_centre.py): repeat faults by
address or line, the BI views' region path (a unit's rows are exactly its subtree), report
subscribers kept to an admin's scope and read by the mailing, and the API's statistics equal to
the dashboard's figures under the same scope. SQLite and PostgreSQL."""

import re

import pendulum
import pytest
from sqlalchemy import select, text

from models.core.enums import Channel, StaffRole, TicketType
from models.org.organisation import Region, Staff
from models.statistics.indicators import Kind
from models.tickets.ticket import Ticket
from models.workforce.tables import IndicatorReading, RosterShift, StaffingPlan
from tasks.core.db import session_scope
from tasks.org.passwords import hash_password
from tasks.statistics.aggregations import indicators
from tasks.statistics.figures import Statistics, Tree, Unit, local_period, shown
from tasks.statistics.reports import reports
from tasks.statistics.subscriptions import subscribers
from tests.api import api_client, api_key
from tests.portal import PASSWORD, login, post_form
from tests.statistics_centre import DAY, NOW, at, build, unit_ids
from tests.test_dashboard_pages import table

PERIOD = "start=2025-09-30&end=2025-09-30"


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDLINE_VAR_DIR", str(tmp_path / "var"))
    with session_scope(db_url) as session:
        made = build(session, hash_password(PASSWORD))
        ids = unit_ids(made)
        emails = {"P-ADM": "p-adm@js.example", "B-SUP": "b-sup@sz.example",
                  "A1-HEAD": "a1-head@nj.example"}
        for staff in session.scalars(select(Staff)):
            staff.email = emails.get(staff.code)
        for code, role, department, email in [
                ("B-ADM", StaffRole.admin, "B-CC", "b-adm@sz.example"),
                ("B-AGT", StaffRole.agent, "B-CC", "b-agt@sz.example"),
                ("B-NEW", StaffRole.agent, "B-CC", None)]:
            session.add(Staff(code=code, name=code, role=role, phone="13900000000",
                              department=made["departments"][department], email=email,
                              password_hash=hash_password(PASSWORD)))
        return ids


def fault(session, number: str, region_code: str, received, address: str,
          line: str | None) -> None:
    region = session.scalar(select(Region).where(Region.code == region_code))
    session.add(Ticket(number=number, type=TicketType.fault_repair,
                       channel=Channel.phone, content="停电", caller_name="李四",
                       caller_phone="13800000001", address=address, line=line, region=region,
                       area_kind=region.area_kind, received_at=received, rule_version="test"))


def test_repeat_faults_count_by_address_or_by_line(db_url, centre):
    with session_scope(db_url) as session:
        fault(session, "F1", "320101", at(9, 30, 9), "北京东路1号", "10kV玄武线")
        fault(session, "F2", "320102", at(9, 30, 16), "中山路9号", "10kV玄武线")  # same line: a repeat
        fault(session, "F3", "320501", at(8, 30, 16), "干将路1号", "10kV姑苏线")
        fault(session, "F4", "320501", at(9, 30, 17), "干将路2号", "10kV姑苏线")  # 31 days after: not
        fault(session, "F5", "320501", at(9, 30, 18), "干将路3号", None)
        session.flush()
        admin = Statistics(session, session.scalar(select(Staff).where(Staff.code == "P-ADM")))
        found = admin.figures(indicators().get("repeat_faults"),
                              local_period(DAY, DAY, "Asia/Shanghai", NOW))
        # T4 at T3's address, and the second fault on 10kV玄武线.
        assert [(r.label, r.value) for r in [found.total, *found.rows]] == [
            ("合计", 2), ("南京市", 2), ("苏州市", 0)]
        county = admin.tickets(indicators().get("repeat_faults"),
                               local_period(DAY, DAY, "Asia/Shanghai", NOW),
                               Unit(centre["320102"], 0))
        assert [number for number, *_ in county] == ["T4", "F2"]


def test_a_units_bi_rows_are_exactly_its_subtree(db_url, centre):
    with session_scope(db_url) as session:
        tree = Tree(session)

        def regions(sql: str, region_id: int) -> set[int]:
            return set(session.scalars(text(sql), {"path": f"%/{region_id}/%"}))

        for region_id in tree.regions:
            assert regions("SELECT region_id FROM stat_regions WHERE region_path LIKE :path",
                           region_id) == tree.subtree(region_id)
        nanjing, suzhou = centre["3201"], centre["3205"]
        tickets = "SELECT DISTINCT region_id FROM stat_tickets_daily WHERE region_path LIKE :path"
        assert regions(tickets, nanjing) == {centre["320101"], centre["320102"]}
        assert regions(tickets, suzhou) == {centre["320501"]}
        steps = "SELECT DISTINCT region_id FROM stat_steps_daily WHERE region_path LIKE :path"
        assert regions(steps, nanjing) == {nanjing, centre["320101"]}
        assert regions(steps, centre["32"]) == {centre["32"], nanjing, centre["320101"],
                                                suzhou, centre["320501"]}
        clocks = ("SELECT SUM(decided), SUM(on_time) FROM stat_clocks_daily "
                  "WHERE region_path LIKE :path AND CAST(day AS VARCHAR(10)) = '2025-09-30'")
        assert tuple(session.execute(text(clocks), {"path": f"%/{suzhou}/%"}).one()) == (1, 1)


def codes(url: str, report: str) -> list[str]:
    with session_scope(url) as session:
        return [s.code for s in subscribers(session, reports().get(report))]


def section(html: str, report: str) -> list[str]:
    body = re.search(rf'<section id="report-{report}">(.*?)</section>', html, re.S).group(1)
    return re.findall(r"<tr><td>([^<]+)</td>", body)


def test_an_admin_chooses_the_subscribers_of_their_scope(portal, centre, db_url):
    assert codes(db_url, "daily") == ["A1-HEAD", "B-ADM", "B-SUP", "P-ADM"]
    city = login(portal, "B-ADM")
    page = city.get("/admin/report-subscribers")
    assert page.status_code == 200
    assert section(page.text, "daily") == ["B-ADM", "B-SUP"]  # not the province's, nor 南京's
    added = post_form(city, "/admin/report-subscribers/daily", {"code": "B-AGT", "action": "add"},
                      page="/admin/report-subscribers")
    assert added.status_code == 303
    for code, error in [("A1-HEAD", "您的管辖范围内没有工号为 A1-HEAD 的员工"),
                        ("NOBODY", "您的管辖范围内没有工号为 NOBODY 的员工"),
                        ("B-NEW", "员工 B-NEW（B-NEW）没有电子邮箱，收不到报表"),
                        ("B-AGT", "B-AGT（B-AGT）已在日报的收件人中"),
                        ("", "请填写员工工号")]:
        refused = post_form(city, "/admin/report-subscribers/daily",
                            {"code": code, "action": "add"}, page="/admin/report-subscribers")
        assert (refused.status_code, error in refused.text) == (422, True)
    removed = post_form(city, "/admin/report-subscribers/daily",
                        {"code": "B-SUP", "action": "remove"}, page="/admin/report-subscribers")
    assert removed.status_code == 303
    page = city.get("/admin/report-subscribers").text
    assert section(page, "daily") == ["B-ADM", "B-AGT"]
    assert "单独添加" in page
    assert codes(db_url, "daily") == ["A1-HEAD", "B-ADM", "B-AGT", "P-ADM"]
    assert codes(db_url, "report") == ["B-ADM", "B-SUP", "P-ADM"]  # the other reports unchanged
    put_back = post_form(city, "/admin/report-subscribers/daily",
                         {"code": "B-SUP", "action": "add"}, page="/admin/report-subscribers")
    assert put_back.status_code == 303
    assert codes(db_url, "daily") == ["A1-HEAD", "B-ADM", "B-AGT", "B-SUP", "P-ADM"]
    assert login(portal, "B-SUP").get("/admin/report-subscribers").status_code == 403


def screen(html: str) -> list[list[str]]:
    return table(html, "figures")


def from_api(answer: dict) -> list[list[str]]:
    kind = Kind(answer["kind"])
    return [[row["label"], shown(kind, row["value"])] for row in [*answer["rows"], answer["total"]]]


def test_the_apis_statistics_equal_the_dashboard(portal, centre, db_url):
    province = api_client(portal, api_key(db_url, "bi", ["statistics:read"], unit="32"))
    admin = login(portal, "P-ADM")
    for indicator in ("ticket_volume", "on_time_rate", "step_handling", "satisfaction",
                      "repeat_faults", "calls_offered"):
        for unit in ("", f"r{centre['3201']}", f"r{centre['320101']}"):
            query = f"{PERIOD}&unit={unit}" if unit else PERIOD
            answer = province.get(f"/statistics/{indicator}?{query}")
            assert answer.status_code == 200
            page = admin.get(f"/dashboard?indicator={indicator}&{query}")
            assert from_api(answer.json()) == screen(page.text)
    volume = province.get(f"/statistics/ticket_volume?{PERIOD}").json()
    assert [(r["label"], r["value"]) for r in volume["rows"]] == [("南京市", 4), ("苏州市", 1)]
    by_channel = province.get(f"/statistics/ticket_volume?{PERIOD}&dim=channel").json()
    assert [(r["label"], r["value"]) for r in by_channel["by_dimension"]] == [
        ("电话", 3), ("网站", 1), ("微信", 1)]


def test_a_citys_key_reads_its_subtree_only(portal, centre, db_url):
    city = api_client(portal, api_key(db_url, "sz-bi", ["statistics:read"], unit="3205"))
    listed = city.get("/statistics/indicators").json()
    assert listed["home"] == f"r{centre['3205']}"
    assert "calls_offered" not in [i["key"] for i in listed["indicators"]]
    volume = city.get(f"/statistics/ticket_volume?{PERIOD}").json()
    assert [(r["label"], r["value"]) for r in [volume["total"], *volume["rows"]]] == [
        ("合计", 1), ("姑苏区", 1)]
    supervisor = login(portal, "B-SUP")
    assert from_api(volume) == screen(supervisor.get(f"/dashboard?{PERIOD}").text)
    for path in (f"/statistics/ticket_volume?{PERIOD}&unit=r{centre['3201']}",
                 f"/statistics/ticket_volume?{PERIOD}&unit=r{centre['32']}",
                 f"/statistics/calls_offered?{PERIOD}", f"/statistics/no_such?{PERIOD}"):
        refused = city.get(path)
        assert (refused.status_code, refused.json()["zh"]) == (
            404, "没有这个指标或单位，或不在该密钥的单位范围内")
    assert city.get("/statistics/ticket_volume?start=2025-9-30").status_code == 422
    assert city.get(f"/statistics/ticket_volume?{PERIOD}&unit=xyz").status_code == 422
    reader = api_client(portal, api_key(db_url, "crm", ["tickets:read"], unit="3205"))
    assert reader.get(f"/statistics/ticket_volume?{PERIOD}").status_code == 403


def test_the_wallboard_shows_each_groups_planned_agents(portal, centre, db_url):
    now = pendulum.now("UTC")
    slot = now.replace(minute=now.minute // 30 * 30, second=0, microsecond=0)
    with session_scope(db_url) as session:
        for start in (slot, slot.add(minutes=30)):  # the page may open in the next interval
            for group, rostered in (("居民", 12), ("企业", 3)):
                session.add(StaffingPlan(group=group, interval_start=start, calls=50, aht_s=180,
                                         agents=rostered, rostered=rostered, service_level=0.8,
                                         asa_s=10, occupancy=0.7, abandon_rate=0, made_at=now))
        session.add(IndicatorReading(group="居民", indicator="queue_length", value=4,
                                     at=now.subtract(seconds=5)))
        # On shift now: an agent of 居民, and one of the pool (no group), who serves 企业.
        first, second = session.scalars(select(Staff).order_by(Staff.id).limit(2))
        for person, group in ((first, "居民"), (second, None)):
            session.add(RosterShift(staff=person, shift="D", business_group=group,
                                    start_at=now.subtract(hours=1), end_at=now.add(hours=1)))
    board = login(portal, "P-ADM").get("/wallboard").text
    assert table(board, "groups") == [["企业", "—", "—", "—", "3"], ["居民", "4", "—", "1", "12"],
                                      ["公共坐席", "—", "—", "1", "—"]]
    assert re.search(r'id="staffing-value">(.*?)</span>', board).group(1) == "2 / 15"
    city = login(portal, "B-SUP").get("/wallboard").text
    assert 'id="groups"' not in city  # the centre's telephony: the province centre only


def test_a_ticket_opened_with_its_line_keeps_it(portal, centre, db_url):
    writer = api_client(portal, api_key(db_url, "wechat", ["tickets:write", "tickets:read"]))
    made = writer.post("/tickets", json={
        "type": "fault_repair", "channel": "wechat", "phone": "13812345678", "name": "张三",
        "address": "玄武区北京东路9号", "region": "320101", "content": "家中停电",
        "line": "10kV玄武线"})
    assert made.status_code == 201
    number = made.json()["ticket"]["number"]
    assert writer.get(f"/tickets/{number}").json()["line"] == "10kV玄武线"
    too_long = writer.post("/tickets", json={
        "type": "fault_repair", "channel": "wechat", "phone": "13812345678", "name": "张三",
        "address": "玄武区北京东路9号", "region": "320101", "content": "家中停电", "line": "线" * 51})
    assert (too_long.status_code, too_long.json()["field"]) == (422, "line")
