"""A small two-city organisation as a centre would export it, written as xlsx, YAML or csv."""

import csv
from pathlib import Path

import yaml
from openpyxl import Workbook

UNIT_HEADERS = ["单位编码", "单位名称", "上级单位编码", "单位层级", "供电区域类型"]
DEPARTMENT_HEADERS = ["部门编码", "部门名称", "所属单位编码", "部门类型"]
STAFF_HEADERS = ["工号", "姓名", "所属部门编码", "角色", "手机", "邮箱", "上级工号", "在岗"]


def units() -> list[list]:
    return [["32", "江苏省电力公司", "", "省", "城市"],
            ["3201", "南京供电公司", "32", "市", "城市"],
            ["320102", "玄武区", "3201", "县", "城市"],
            ["3205", "苏州供电公司", "32", "市", "城市"],
            ["320581", "常熟市", "3205", "县", "农村"]]


def departments() -> list[list]:
    return [["NJ-CC", "南京95598客服中心", "3201", "客服中心"],
            ["NJ-YX", "南京营销部", "3201", "营销"],
            ["NJ-JJ", "南京纪检监察室", "3201", "纪检"],
            ["XW-QX", "玄武抢修班", "320102", "抢修"],
            ["SZ-CC", "苏州95598客服中心", "3205", "客服中心"],
            ["SZ-YX", "苏州营销部", "3205", "营销"],
            ["SZ-JJ", "苏州纪检监察室", "3205", "纪检"],
            ["CS-QX", "常熟抢修班", "320581", "抢修"]]


def staff() -> list[list]:
    return [["N001", "王值班", "NJ-CC", "值班长", "13800000001", "n001@example.cn", "", "是"],
            ["N002", "李坐席", "NJ-CC", "坐席", "13800000002", "", "N001", "是"],
            ["N009", "赵管理", "NJ-CC", "管理员", "13800000009", "admin@example.cn", "", "是"],
            ["N003", "周抢修", "XW-QX", "负责人", "13800000003", "", "", "是"],
            ["S001", "陈值班", "SZ-CC", "值班长", "13900000001", "s001@example.cn", "", "是"],
            ["S002", "吴坐席", "SZ-CC", "坐席", "13900000002", "", "S001", "是"],
            ["S003", "孙抢修", "CS-QX", "负责人", "13900000003", "", "", "是"]]


def tables() -> dict[str, tuple[list[str], list[list]]]:
    return {"单位": (UNIT_HEADERS, units()), "部门": (DEPARTMENT_HEADERS, departments()),
            "人员": (STAFF_HEADERS, staff())}


def write_xlsx(path: Path, sheets: dict[str, tuple[list[str], list[list]]] | None = None) -> Path:
    book = Workbook()
    book.remove(book.active)
    for name, (headers, rows) in (sheets or tables()).items():
        sheet = book.create_sheet(name)
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def write_yaml(path: Path, sheets: dict[str, tuple[list[str], list[list]]] | None = None) -> Path:
    data = {name: [dict(zip(headers, row, strict=True)) for row in rows]
            for name, (headers, rows) in (sheets or tables()).items()}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def write_csvs(folder: Path, encoding: str = "utf-8",
               sheets: dict[str, tuple[list[str], list[list]]] | None = None) -> list[Path]:
    paths = []
    for name, (headers, rows) in (sheets or tables()).items():
        path = folder / f"{name}.csv"
        with path.open("w", newline="", encoding=encoding) as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            writer.writerows(rows)
        paths.append(path)
    return paths
