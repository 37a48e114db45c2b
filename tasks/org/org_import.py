"""`gridline org import`: a centre's own organisation (units, departments, staff) from a file.

The whole file is checked first; with any bad row nothing is written. Rows are upserted by code,
so the same file twice changes nothing. Staff of the file's departments absent from it (or marked
在岗=否) are deactivated: no login, their history kept, never deleted; other departments' staff are
left as they are. New staff get a one-time password
set-up link through the outbox. A dry run goes the same way and is rolled back."""

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.enums import DepartmentKind
from models.core.errors import InputError
from models.org.org_file import (
    DEPARTMENTS,
    STAFF,
    UNITS,
    Known,
    OrgFile,
    Problem,
    kind_of_headers,
    read_org,
    sheet_kind,
)
from models.org.organisation import Department, Region, Staff
from models.tickets.lifecycle import load_lifecycles
from tasks.core.settings import get_settings
from tasks.core.spreadsheets import read_rows, read_sheets
from tasks.org.sessions import disable_staff
from tasks.org.setup_links import send_setup_link
from tasks.tickets.lifecycle_store import lifecycle_references

Tables = dict[str, list[tuple[int, dict]]]


@dataclass
class OrgReport:
    created: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    changed: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    deactivated: list[str] = field(default_factory=list)
    links_sent: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def unchanged(self) -> bool:
        return not any(self.created.values()) and not any(self.changed.values()) \
            and not self.deactivated


KINDS = (UNITS, DEPARTMENTS, STAFF)


def read_org_tables(paths: list[Path]) -> Tables:
    """The tables of one xlsx (a sheet per kind), one YAML, or csv files (one kind each)."""
    tables: Tables = {}
    for path in paths:
        suffix = path.suffix.lower()
        if suffix == ".xlsx":
            found = {name: rows for name, rows in read_sheets(path).items()}
        elif suffix in (".yaml", ".yml"):
            found = _yaml_tables(path)
        elif suffix == ".csv":
            rows = list(read_rows(path))
            kind = kind_of_headers(set(rows[0][1]) if rows else set())
            found = {kind or path.name: rows}
        else:
            raise InputError("file", "仅支持 xlsx、csv 或 YAML 文件",
                             f"expected .xlsx, .csv or .yaml, got {path.name}")
        for name, rows in found.items():
            kind = sheet_kind(name)
            if kind is None:
                raise InputError("file", f"无法识别的表“{name}”，应为 单位/部门/人员",
                                 f"{path.name}: unknown sheet {name!r}, expected 单位/部门/人员")
            if kind in tables:
                raise InputError("file", f"“{kind}”表出现了两次", f"two {kind} tables")
            tables[kind] = rows
    return tables


def _yaml_tables(path: Path) -> Tables:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError("file", "YAML 文件无效", f"bad YAML file {path.name}: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise InputError("file", "YAML 应为 单位/部门/人员 各一个列表",
                         "YAML must map 单位/部门/人员 to lists of rows")
    return {str(name): [(i, row if isinstance(row, dict) else {}) for i, row in
                        enumerate(rows, start=1)] for name, rows in data.items()}


def needed_kinds(session: Session) -> set[DepartmentKind]:
    """The department kinds the lifecycles send steps to (the supervisor sits in the centre)."""
    specs = load_lifecycles(get_settings().lifecycles_dir, lifecycle_references(session))
    return {DepartmentKind.service_centre if step.to == "supervisor" else DepartmentKind(step.to)
            for spec in specs.values() for step in spec.steps if step.to is not None}


def import_org(session: Session, tables: Tables, *, now: datetime,
               dry_run: bool = False) -> OrgReport:
    """Check, then upsert; the report says what was (or would be) created, changed, deactivated."""
    regions = {r.code: r for r in session.scalars(select(Region))}
    departments = {d.code: d for d in session.scalars(select(Department))}
    by_id = {r.id: r.code for r in regions.values()}
    known = Known({code: by_id.get(r.parent_id) for code, r in regions.items()},
                  {code: by_id[d.region_id] for code, d in departments.items()})
    checked = read_org(tables, known, needed_kinds(session))
    report = OrgReport(problems=checked.problems, warnings=checked.warnings, dry_run=dry_run)
    if checked.problems:
        return report
    _units(session, checked, regions, report)
    _departments(session, checked, regions, departments, report)
    if checked.staff is not None:
        _staff(session, checked, departments, report, now)
    if dry_run:
        session.rollback()
    return report


def _set(obj, values: dict) -> bool:
    """Give `obj` these attribute values; whether any differed."""
    differs = {name: value for name, value in values.items() if getattr(obj, name) != value}
    for name, value in differs.items():
        setattr(obj, name, value)
    return bool(differs)


def _units(session: Session, checked: OrgFile, regions: dict[str, Region], report: OrgReport) -> None:
    for code, row in checked.units.items():
        region = regions.get(code)
        if region is None:
            region = regions[code] = Region(code=code)
            session.add(region)
            report.created[UNITS].append(code)
            _set(region, {"name": row["name"], "level": row["level"], "area_kind": row["area_kind"]})
        elif _set(region, {"name": row["name"], "level": row["level"],
                           "area_kind": row["area_kind"]}):
            report.changed[UNITS].append(code)
    touched = set(report.created[UNITS]) | set(report.changed[UNITS])
    for code, row in checked.units.items():
        region, parent = regions[code], regions.get(row["parent"]) if row["parent"] else None
        if region.parent is not parent:
            region.parent = parent
            if code not in touched:
                report.changed[UNITS].append(code)


def _departments(session: Session, checked: OrgFile, regions: dict[str, Region],
                 departments: dict[str, Department], report: OrgReport) -> None:
    for code, row in checked.departments.items():
        values = {"name": row["name"], "kind": row["kind"], "region": regions[row["unit"]]}
        department = departments.get(code)
        if department is None:
            departments[code] = Department(code=code, **values)
            session.add(departments[code])
            report.created[DEPARTMENTS].append(code)
        elif _set(department, values):
            report.changed[DEPARTMENTS].append(code)


def _staff(session: Session, checked: OrgFile, departments: dict[str, Department],
           report: OrgReport, now: datetime) -> None:
    people = {s.code: s for s in session.scalars(select(Staff))}
    for code, row in checked.staff.items():
        values = {"name": row["name"], "role": row["role"], "phone": row["phone"],
                  "email": row["email"], "department": departments[row["department"]]}
        if "business_group" in row:
            values["business_group"] = row["business_group"]
        person = people.get(code)
        if person is None:
            person = people[code] = Staff(code=code, active=row["active"], **values)
            session.add(person)
            report.created[STAFF].append(code)
        elif _set(person, values):
            report.changed[STAFF].append(code)
    touched = set(report.created[STAFF]) | set(report.changed[STAFF])
    for code, row in checked.staff.items():
        person, boss = people[code], people[row["supervisor"]] if row["supervisor"] else None
        if person.supervisor is not boss:
            person.supervisor = boss
            if code not in touched:
                report.changed[STAFF].append(code)
    created = set(report.created[STAFF])
    # The file speaks for the departments it names: one city's file leaves the others' staff
    # (and an admin made with `gridline user add` elsewhere) as they are.
    spoken_for = set(checked.departments) | {row["department"] for row in checked.staff.values()}
    for code, person in sorted(people.items()):
        if code not in checked.staff and person.department.code not in spoken_for:
            continue
        wanted = checked.staff[code]["active"] if code in checked.staff else False
        if person.active and not wanted:
            disable_staff(session, person, now)
            report.deactivated.append(code)
            continue
        back = wanted and not person.active
        if back:
            person.active = True
            report.changed[STAFF].append(code)
        # Whoever starts (or starts again) without a password chooses one through a link.
        if wanted and person.password_hash is None and (back or code in created):
            send_setup_link(session, person, now, reason="import")
            report.links_sent.append(code)
