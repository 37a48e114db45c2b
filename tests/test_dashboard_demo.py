"""The scope rule on the demo centre: the Suzhou city centre's supervisor finds no figure of
another city on any statistics page, download or board; the province's duty supervisor sees them
all."""

import io

import pytest
from openpyxl import load_workbook

from tests.portal import login, portal_centre

OTHER_CITIES = ("南京", "无锡", "玄武", "江宁", "梁溪", "江阴")


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    return portal_centre(db_url, tmp_path, monkeypatch)


def test_no_foreign_unit_on_any_statistics_page(portal, centre):
    suzhou = login(portal, "SZ-S")
    pages = [suzhou.get(f"/dashboard?indicator={key}").text
             for key in ("ticket_volume", "overdue_now", "step_handling", "on_time_rate")]
    pages += [suzhou.get("/wallboard").text, suzhou.get("/approvals").text]
    book = load_workbook(io.BytesIO(suzhou.get("/dashboard/export.xlsx").content))
    pages.append(" ".join(str(c) for row in book.active.iter_rows(values_only=True) for c in row))
    for text in pages:
        assert [name for name in OTHER_CITIES if name in text] == []
    assert "苏州市" in pages[0] and "呼入量" not in pages[0]
    province = login(portal, "S0001").get("/dashboard").text
    assert all(city in province for city in ("南京市", "无锡市", "苏州市")) and "呼入量" in province
