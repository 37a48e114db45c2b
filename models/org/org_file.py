"""An organisation file (单位, 部门, 人员) read into checked rows: every problem of the whole file
found at once, each named by sheet, row and reason in Chinese. Pure: the caller reads the file
and says what the database holds already."""

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from models.core.enums import AreaKind, DepartmentKind, RegionLevel, StaffRole
from models.core.errors import InputError
from models.tickets.intake import normalise_phone

UNITS, DEPARTMENTS, STAFF = "单位", "部门", "人员"
SHEET_ALIASES = {UNITS: ("units",), DEPARTMENTS: ("departments",), STAFF: ("staff",)}
KIND_NAMES = {UNITS: "units", DEPARTMENTS: "departments", STAFF: "staff"}  # in English

# Each column: its Chinese header, its English alias, the field it fills.
HEADERS = {
    UNITS: [("单位编码", "unit_code", "code"), ("单位名称", "unit_name", "name"),
            ("上级单位编码", "parent_code", "parent"), ("单位层级", "level", "level"),
            ("供电区域类型", "area_kind", "area_kind")],
    DEPARTMENTS: [("部门编码", "department_code", "code"), ("部门名称", "department_name", "name"),
                  ("所属单位编码", "unit_code", "unit"), ("部门类型", "kind", "kind")],
    STAFF: [("工号", "staff_code", "code"), ("姓名", "name", "name"),
            ("所属部门编码", "department_code", "department"), ("角色", "role", "role"),
            ("手机", "phone", "phone"), ("邮箱", "email", "email"),
            ("上级工号", "supervisor_code", "supervisor"), ("在岗", "active", "active"),
            ("业务组", "business_group", "business_group")],
}
REQUIRED = {UNITS: ("code", "name", "level"), DEPARTMENTS: ("code", "name", "unit", "kind"),
            STAFF: ("code", "name", "department", "role", "phone")}

# The words a file may use for each closed vocabulary, beside the enum's value and label.
WORDS: dict[type[Enum], dict[str, str]] = {
    RegionLevel: {"省": "province", "市": "city", "县": "county", "区": "county"},
    AreaKind: {"城市": "urban", "农村": "rural", "偏远": "remote"},
    DepartmentKind: {"客服中心": "service_centre", "抢修": "repair", "营销": "marketing",
                     "计量": "metering", "纪检": "discipline", "质检": "quality"},
    StaffRole: {"坐席": "agent", "处理人": "handler", "负责人": "head", "值班长": "supervisor",
                "管理员": "admin", "质检员": "inspector"},
}
YES, NO = {"是", "y", "yes", "true", "1"}, {"否", "n", "no", "false", "0"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Problem:
    sheet: str
    row: int
    reason: str

    def __str__(self) -> str:
        return f"{self.sheet} 第 {self.row} 行：{self.reason}"


@dataclass
class OrgFile:
    """The checked rows of each kind present in the file (a kind absent is left alone)."""

    units: dict[str, dict] = field(default_factory=dict)
    departments: dict[str, dict] = field(default_factory=dict)
    staff: dict[str, dict] | None = None  # None: no staff table, nobody is deactivated
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Known:
    """What the database holds: unit code -> parent code, department code -> unit code."""

    unit_parents: dict[str, str | None]
    department_units: dict[str, str]


def sheet_kind(name: str) -> str | None:
    name = name.strip()
    for kind, aliases in SHEET_ALIASES.items():
        if name == kind or name.lower() in aliases:
            return kind
    return None


def kind_of_headers(headers: set[str]) -> str | None:
    """A csv holds one kind: the one whose code column it has (工号, then 部门编码, then 单位编码)."""
    for kind in (STAFF, DEPARTMENTS, UNITS):
        zh, en, _ = HEADERS[kind][0]
        if zh in headers or en in headers:
            return kind
    return None


def word(enum: type[Enum], text: str) -> Enum:
    text = text.strip()
    value = WORDS[enum].get(text, text)
    for member in enum:
        if value in (member.value, getattr(member, "label", None)):
            return member
    choices = "/".join(WORDS[enum])
    raise ValueError(f"取值“{text}”无效，可选：{choices}")


def _cell(values: dict[str, Any], zh: str, en: str) -> str:
    value = values.get(zh, values.get(en))
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as a number in Excel
    return "" if value is None else str(value).strip()


def _row(kind: str, values: dict[str, Any]) -> dict[str, str]:
    row = {name: _cell(values, zh, en) for zh, en, name in HEADERS[kind]}
    missing = [zh for zh, _, name in HEADERS[kind] if name in REQUIRED[kind] and not row[name]]
    if missing:
        raise ValueError(f"缺少{'、'.join(missing)}")
    return row


def _has_column(values: dict[str, Any], kind: str, name: str) -> bool:
    """Whether the file has the column, under its Chinese header or its English alias."""
    return any(zh in values or en in values for zh, en, field in HEADERS[kind] if field == name)


def _unit(values: dict) -> dict:
    row = _row(UNITS, values)
    row["level"] = word(RegionLevel, row["level"])
    row["area_kind"] = word(AreaKind, row["area_kind"]) if row["area_kind"] else AreaKind.urban
    row["parent"] = row["parent"] or None
    return row


def _department(values: dict) -> dict:
    row = _row(DEPARTMENTS, values)
    row["kind"] = word(DepartmentKind, row["kind"])
    return row


def _person(values: dict) -> dict:
    row = _row(STAFF, values)
    row["role"] = word(StaffRole, row["role"])
    try:
        row["phone"] = normalise_phone(row["phone"])
    except InputError:
        raise ValueError(f"手机号码“{row['phone']}”无效") from None
    if row["email"] and not EMAIL.match(row["email"]):
        raise ValueError(f"邮箱“{row['email']}”无效")
    row["email"] = row["email"] or None
    active = row["active"].lower() or "是"
    if active not in YES | NO:
        raise ValueError(f"在岗“{row['active']}”无效，可选：是/否")
    row["active"] = active in YES
    row["supervisor"] = row["supervisor"] or None
    if len(row["business_group"]) > 50:
        raise ValueError("业务组名称不能超过 50 个字")
    if not _has_column(values, STAFF, "business_group"):
        del row["business_group"]  # a file without the column leaves the groups as they are
    else:
        row["business_group"] = row["business_group"] or None
    return row


PARSERS = {UNITS: _unit, DEPARTMENTS: _department, STAFF: _person}


def read_org(tables: dict[str, list[tuple[int, dict]]], known: Known,
             needed_kinds: set[DepartmentKind]) -> OrgFile:
    """Check every row of every table ({kind: [(row number, {header: value})]}) against the rest
    of the file and what the database holds."""
    result = OrgFile()
    rows: dict[str, dict[str, dict]] = {}
    numbers: dict[tuple[str, str], int] = {}
    for kind in (UNITS, DEPARTMENTS, STAFF):
        if kind not in tables:
            continue
        rows[kind] = {}
        for number, values in tables[kind]:
            try:
                row = PARSERS[kind](values)
            except ValueError as exc:
                result.problems.append(Problem(kind, number, str(exc)))
                continue
            if row["code"] in rows[kind]:
                first = numbers[kind, row["code"]]
                result.problems.append(Problem(kind, number, f"编码“{row['code']}”重复（第 {first} 行已有）"))
                continue
            rows[kind][row["code"]] = row
            numbers[kind, row["code"]] = number
    def bad(kind: str, code: str, reason: str) -> None:
        result.problems.append(Problem(kind, numbers[kind, code], reason))

    units = rows.get(UNITS, {})
    parents = dict(known.unit_parents) | {code: row["parent"] for code, row in units.items()}
    for code, row in units.items():
        if row["parent"] and row["parent"] not in parents:
            bad(UNITS, code, f"上级单位“{row['parent']}”不存在")
        elif _in_cycle(code, parents):
            bad(UNITS, code, f"上级单位形成循环（{code} 是自己的上级）")
    departments = rows.get(DEPARTMENTS, {})
    department_units = dict(known.department_units) | {c: r["unit"] for c, r in departments.items()}
    for code, row in departments.items():
        if row["unit"] not in parents:
            bad(DEPARTMENTS, code, f"所属单位“{row['unit']}”不存在")
    if STAFF in rows:
        staff = rows[STAFF]
        bosses = {code: row["supervisor"] for code, row in staff.items()}
        for code, row in staff.items():
            if row["department"] not in department_units:
                bad(STAFF, code, f"所属部门“{row['department']}”不存在")
            if row["supervisor"] and row["supervisor"] not in staff:
                bad(STAFF, code, f"上级工号“{row['supervisor']}”不在人员表中")
            elif _in_cycle(code, bosses):
                bad(STAFF, code, "上级工号形成循环")
        result.staff = staff
    result.units, result.departments = units, departments
    result.problems.sort(key=lambda p: (list(HEADERS).index(p.sheet), p.row))
    if not result.problems:
        result.warnings = _missing_kinds(parents, units, departments, needed_kinds)
    return result


def _in_cycle(start: str, parents: dict[str, str | None]) -> bool:
    seen, current = set(), parents.get(start)
    while current is not None and current in parents:
        if current == start or current in seen:
            return current == start
        seen.add(current)
        current = parents.get(current)
    return False


def _missing_kinds(parents: dict[str, str | None], units: dict[str, dict], departments: dict[str, dict],
                   needed: set[DepartmentKind]) -> list[str]:
    """Each lowest unit of the file whose chain up to the root lacks a kind a lifecycle sends to:
    such steps would go to the service centre instead."""
    kinds_at: dict[str, set[DepartmentKind]] = {}
    for row in departments.values():
        kinds_at.setdefault(row["unit"], set()).add(row["kind"])
    has_children = {parent for parent in parents.values() if parent}
    warnings = []
    for code in units:
        if code in has_children:
            continue
        found, place = set(), code
        while place is not None:
            found |= kinds_at.get(place, set())
            place = parents.get(place)
        missing = needed - found
        if missing:
            labels = "、".join(sorted(k.label for k in missing))
            warnings.append(f"单位“{code}”及其上级没有{labels}，相应环节将派给客服中心")
    return warnings
