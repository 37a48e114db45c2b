"""`gridline customers import` after the organisation is in, on SQLite and PostgreSQL: rows land
and are upserted by account number; with one bad row nothing is written and each bad row is named."""

import csv

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from models.core.enums import AreaKind
from models.org.customer import Customer
from tasks.core.db import session_scope
from tests.cli import run_cli
from tests.org_files import write_xlsx

HEADERS = ["户号", "户名", "联系电话", "用电地址", "供电单位编码", "供电区域类型", "重要客户"]
ROWS = [["3200000001", "张三", "13812345678", "南京市玄武区中山路1号", "320102", "", "否"],
        ["3200000002", "苏州某医院", "13912345678，0512-65221234", "常熟市虞山路8号", "320581",
         "城市", "是"],
        ["3200000003", "李四", "13712345678", "常熟市沙家浜镇12号", "320581", "偏远", ""]]


@pytest.fixture
def organisation(db_url, tmp_path, capsys):
    assert run_cli(capsys, "org", "import", str(write_xlsx(tmp_path / "org.xlsx"))).code == 0
    return db_url


def write_csv(path, rows, encoding="utf-8"):
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    return path


def customers(url: str) -> dict[str, tuple]:
    with session_scope(url) as session:
        return {c.account_no: (c.name, c.phone, c.alt_phone, c.region.code, c.area_kind,
                               c.important) for c in session.scalars(select(Customer))}


def test_customers_land_and_a_second_run_changes_nothing(organisation, tmp_path, capsys):
    path = write_csv(tmp_path / "customers.csv", ROWS, encoding="gbk")
    result = run_cli(capsys, "customers", "import", str(path), "--batch-size", "2")
    assert result.code == 0, result.err
    assert result.out.strip() == ("共 3 行：新增 3，更新 0，未变 0 | rows 3, created 3, updated 0, "
                                  "unchanged 0")
    assert customers(organisation) == {
        "3200000001": ("张三", "13812345678", None, "320102", AreaKind.urban, False),
        "3200000002": ("苏州某医院", "13912345678", "051265221234", "320581", AreaKind.urban, True),
        "3200000003": ("李四", "13712345678", None, "320581", AreaKind.remote, False),
    }
    again = run_cli(capsys, "customers", "import", str(path))
    assert again.out.strip() == ("共 3 行：新增 0，更新 0，未变 3 | rows 3, created 0, updated 0, "
                                 "unchanged 3")


def test_an_xlsx_updates_by_account_number(organisation, tmp_path, capsys):
    run_cli(capsys, "customers", "import", str(write_csv(tmp_path / "c.csv", ROWS)))
    book = Workbook()
    book.active.append(HEADERS)
    book.active.append([3200000001, "张三", "13812345679", "南京市玄武区中山路1号", 320102, "", "是"])
    book.save(tmp_path / "c.xlsx")
    result = run_cli(capsys, "customers", "import", str(tmp_path / "c.xlsx"))
    assert result.code == 0, result.err
    assert "新增 0，更新 1，未变 0" in result.out
    assert customers(organisation)["3200000001"] == ("张三", "13812345679", None, "320102",
                                                     AreaKind.urban, True)


def test_one_bad_row_and_nothing_is_written(organisation, tmp_path, capsys):
    rows = ROWS + [["3200000004", "王五", "17912345678", "某地", "320102", "", "否"],
                   ["3200000005", "赵六", "13812340000", "某地", "9999", "", "否"],
                   ["3200000001", "张三", "13812345678", "某地", "320102", "", "否"],
                   ["3200000006", "", "13812340001", "某地", "320102", "", "也许"]]
    result = run_cli(capsys, "customers", "import", str(write_csv(tmp_path / "c.csv", rows)))
    assert result.code == 1
    assert result.err.splitlines() == [
        "共 7 行，4 行有误，未写入任何数据 | rows 7, 4 bad, nothing written:",
        "  第 5 行 row 5: 联系电话“17912345678”无效",
        "  第 6 行 row 6: 供电单位“9999”不存在",
        "  第 7 行 row 7: 户号“3200000001”在文件中重复",
        "  第 8 行 row 8: 缺少户名",
    ]
    assert customers(organisation) == {}


def test_a_file_without_the_account_column_is_refused(organisation, tmp_path, capsys):
    path = tmp_path / "c.csv"
    path.write_text("户名,联系电话\n张三,13812345678\n", encoding="utf-8")
    result = run_cli(capsys, "customers", "import", str(path))
    assert result.code == 2
    assert result.err.strip() == ("错误：字段 file：缺少列：户号、用电地址、供电单位编码 | error: field "
                                  "file: missing column(s): 户号、用电地址、供电单位编码")
