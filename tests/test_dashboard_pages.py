"""运营统计 and 现场监控 over HTTP on the hand-counted centre: the figures on the page, drill-down
to the tickets with a breadcrumb, the Excel download equal to the screen, the chart library served
by the portal itself, and no figure of another unit for a city's supervisor."""

import io
import re

import pytest
from openpyxl import load_workbook

from models.statistics.indicators import Kind
from tasks.core.db import session_scope
from tasks.org.passwords import hash_password
from tasks.statistics.figures import shown
from tests.portal import PASSWORD, login
from tests.statistics_centre import build, unit_ids

DAY = "start=2025-09-30&end=2025-09-30"


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDLINE_VAR_DIR", str(tmp_path / "var"))
    with session_scope(db_url) as session:
        return unit_ids(build(session, hash_password(PASSWORD)))


def table(html: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S).group(1)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S) if "<td" in row]


def crumbs(html: str) -> list[str]:
    nav = re.search(r'<nav class="breadcrumb" id="breadcrumb">(.*?)</nav>', html, re.S).group(1)
    return [c.strip() for c in re.sub(r"<[^>]+>", "", nav).split("›")]


def test_figures_drill_down_to_the_tickets(portal, centre):
    admin = login(portal, "P-ADM")
    page = admin.get(f"/dashboard?{DAY}")
    assert page.status_code == 200
    assert table(page.text, "figures") == [["南京市", "4"], ["苏州市", "1"], ["合计", "5"]]
    assert "/static/vendor/chartjs/chart.umd.min.js" in page.text
    city = admin.get(f"/dashboard?unit=r{centre['3201']}&{DAY}").text
    assert crumbs(city) == ["江苏省", "南京市"]
    assert table(city, "figures") == [["玄武区", "2"], ["秦淮区", "2"], ["合计", "4"]]
    county = admin.get(f"/dashboard?unit=r{centre['320101']}&{DAY}").text
    assert table(county, "figures") == [["南京营销部", "1"], ["玄武营销部", "1"], ["合计", "2"]]
    link = re.search(r'href="(/dashboard/tickets\?[^"]+)">南京营销部', county).group(1)
    listing = admin.get(link.replace("&amp;", "&")).text
    assert crumbs(listing) == ["江苏省", "南京市", "玄武区", "南京营销部"]
    assert [row[0] for row in table(listing, "tickets")] == ["T1"]
    chart = admin.get("/static/vendor/chartjs/chart.umd.min.js")
    assert (chart.status_code, "Chart.js v4" in chart.text[:200]) == (200, True)


def test_the_excel_download_equals_the_screen(portal, centre):
    admin = login(portal, "P-ADM")
    for query, kind in [(f"indicator=ticket_volume&dim=channel&{DAY}", Kind.count),
                        (f"indicator=on_time_rate&{DAY}", Kind.ratio),
                        (f"indicator=step_handling&{DAY}", Kind.minutes)]:
        screen = admin.get(f"/dashboard?{query}").text
        download = admin.get(f"/dashboard/export.xlsx?{query}")
        assert download.status_code == 200
        sheet = load_workbook(io.BytesIO(download.content)).active
        cells = [[label, value if isinstance(value, str) else shown(kind, value)]
                 for label, value in sheet.iter_rows(min_row=2, values_only=True) if label]
        expected = table(screen, "figures")
        if "by-dimension" in screen:
            expected += [["渠道", "工单量"], *table(screen, "by-dimension")]
        assert cells == expected


def test_a_city_supervisor_sees_only_the_city(portal, centre):
    suzhou = login(portal, "B-SUP")
    page = suzhou.get(f"/dashboard?{DAY}").text
    assert table(page, "figures") == [["姑苏区", "1"], ["合计", "1"]]
    assert "南京" not in page and "calls_offered" not in page
    for path in (f"/dashboard?unit=r{centre['3201']}&{DAY}",
                 f"/dashboard/export.xlsx?unit=r{centre['3201']}&{DAY}",
                 f"/dashboard/tickets?unit=r{centre['320101']}-d{centre['A-MKT']}&{DAY}",
                 f"/dashboard?indicator=calls_offered&{DAY}",
                 f"/dashboard?unit=r{centre['32']}&{DAY}"):
        assert suzhou.get(path).status_code == 404, path
    board = suzhou.get("/wallboard").text
    assert "南京" not in board, re.findall(r".{80}南京.{80}", board, re.S)
    assert table(board, "units") == [["姑苏区", "0"]]


def test_submit_and_send_back_on_the_approval_page(portal, centre):
    from tests.portal import csrf_of

    page = f"/approvals/unit?report=indicators&start=2025-09-01&unit=r{centre['320101']}"
    head = login(portal, "A1-HEAD")
    html = head.get(page).text
    assert table(html, "computed")[0] == ["工单量", "3"]
    form = {"csrf": csrf_of(html), "report": "indicators", "start": "2025-09-01",
            "unit": f"r{centre['320101']}", "entered_visits": "12", "entered_remarks": ""}
    assert head.post("/approvals/unit", data={**form, "action": "submit"}).status_code == 303
    assert '<strong id="status">已上报</strong>' in head.get(page).text
    admin = login(portal, "P-ADM")
    html = admin.get(page).text
    sent = admin.post("/approvals/unit", data={**form, "csrf": csrf_of(html),
                                               "action": "send_back", "reason": "数据有误"})
    assert sent.status_code == 303
    html = admin.get(page).text
    assert "已退回" in html and table(html, "log")[-1][1:] == ["P-ADM", "退回", "数据有误"]
    overview = admin.get("/approvals?report=indicators&start=2025-09-01").text
    assert table(overview, "units") == [["江苏省", "待上报"], ["南京市", "待上报"], ["苏州市", "待上报"]]
    suzhou = login(portal, "B-SUP")
    assert suzhou.get(page).status_code == 404


def test_a_period_of_days_has_its_trend_day_by_day(portal, centre, db_url):
    import json

    from tasks.statistics.rollup import roll_day
    from tests.statistics_centre import DAY as FIRST
    from tests.statistics_centre import NOW

    admin = login(portal, "P-ADM")
    week = "start=2025-09-29&end=2025-10-01"

    def trend(query: str) -> dict:
        page = admin.get(f"/dashboard?{query}").text
        return json.loads(re.search(r'id="trend-data">(.*?)</script>', page, re.S).group(1))

    live = trend(f"indicator=step_handling&{week}")
    # 09-29: nothing done; 09-30: the hand count's 260 minutes over 7 steps; 10-01: one of 40.
    assert (live["labels"], live["values"]) == (["09-29", "09-30", "10-01"], [None, 260 / 7, 40])
    assert trend(f"indicator=ticket_volume&{week}")["values"] == [1, 5, 0]
    with session_scope(db_url) as session:  # the middle day from the rollup, the rest live
        roll_day(session, FIRST, now=NOW, timezone="Asia/Shanghai")
    assert trend(f"indicator=step_handling&{week}")["values"] == live["values"]
    assert trend(f"indicator=overdue_now&{week}")["labels"] == []  # the state now: no days
    assert trend(f"indicator=ticket_volume&{DAY}")["labels"] == []  # one day: no trend
