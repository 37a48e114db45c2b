"""Import the marketing system's ticket export (xlsx or csv): bad rows are reported by row number
and reason, the good rows land together, upserted by ticket number."""

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.core.enums import TicketStatus
from models.core.errors import InputError, input_error
from models.org.organisation import Region
from models.tickets.marketing import ExportMapping, ExportRow, parse_export_time
from models.tickets.rules import span_minutes
from models.tickets.ticket import Event, Ticket, TicketClock
from tasks.core.spreadsheets import read_rows

SOURCE = "marketing"
CLOCK = "deadline"


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def read_mapping(path: Path | None) -> ExportMapping:
    if path is None:
        return ExportMapping()
    try:
        return ExportMapping.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError) as exc:
        raise InputError("mapping", "列映射文件无效", f"bad mapping file {path}: {exc}") from None
    except ValidationError as exc:
        error = input_error(exc, ExportMapping)
        raise InputError(f"mapping.{error.field}", f"列映射文件无效（{error.zh}）",
                         f"bad mapping file {path}: {error.en}") from None


def parse_row(values: dict, mapping: ExportMapping, timezone: str) -> ExportRow:
    def cell(column: str | None) -> str:
        value = values.get(column) if column else None
        return "" if value is None else str(value).strip()

    missing = [c for c in (mapping.number, mapping.type, mapping.deadline) if c not in values]
    if missing:
        raise ValueError(f"缺少列 missing column: {', '.join(missing)}")
    if not cell(mapping.number):
        raise ValueError("缺少工单编号 missing ticket number")
    type_name = cell(mapping.type)
    if type_name not in mapping.type_names:
        raise ValueError(f"未知的业务类型 unknown type: {type_name!r}")
    status = cell(mapping.status)
    if status not in mapping.open_statuses + mapping.closed_statuses:
        raise ValueError(f"未知的工单状态 unknown status: {status!r}")
    times = {}
    for name, column in (("received_at", mapping.received_at), ("deadline", mapping.deadline)):
        try:
            times[name] = parse_export_time(values.get(column), timezone)
        except ValueError as exc:
            raise ValueError(f"{column}时间无效 bad {name}: {exc}") from None
    try:
        return ExportRow(number=cell(mapping.number), type=mapping.type_names[type_name],
                         content=cell(mapping.content), is_open=status in mapping.open_statuses,
                         responsible_name=cell(mapping.responsible_name),
                         responsible_phone=cell(mapping.responsible_phone),
                         region=cell(mapping.region) or None, **times)
    except ValidationError as exc:
        error = input_error(exc, ExportRow)
        raise ValueError(f"字段 {error.field}：{error.zh} | field {error.field}: {error.en}") from None


def import_export(session: Session, path: Path, *, mapping: ExportMapping, now: datetime,
                  timezone: str) -> ImportReport:
    report = ImportReport()
    table = list(read_rows(path))
    report.rows = len(table)
    regions = {r.code: r for r in session.scalars(select(Region).order_by(Region.id))}
    root = next((r for r in regions.values() if r.parent_id is None), None)
    numbers = [cell.get(mapping.number) for _, cell in table]
    existing = {t.number: t for t in session.scalars(
        select(Ticket).where(Ticket.number.in_([str(n).strip() for n in numbers if n]))
        .options(selectinload(Ticket.clocks)))}  # _update reads each ticket's clocks
    seen: set[str] = set()
    warn = span_minutes(mapping.warn)
    for row_number, values in table:
        try:
            row = parse_row(values, mapping, timezone)
            if row.number in seen:
                raise ValueError(f"工单编号重复 duplicate number in file: {row.number}")
            region = regions.get(row.region) if row.region else root
            if region is None:
                raise ValueError(f"未知的供电单位 unknown region: {row.region!r}")
            ticket = existing.get(row.number)
            if ticket is not None and ticket.source != SOURCE:
                raise ValueError("工单编号已被本系统工单使用 number belongs to a Gridline ticket")
        except ValueError as exc:
            report.errors.append({"row": row_number, "reason": str(exc)})
            continue
        seen.add(row.number)
        if ticket is None:
            existing[row.number] = _create(session, row, region, warn, now)
            report.created += 1
        else:
            _update(ticket, row, now)
            report.updated += 1
    return report


def _create(session: Session, row: ExportRow, region: Region, warn: int, now: datetime) -> Ticket:
    ticket = Ticket(
        number=row.number, type=row.type, content=row.content, caller_name="", caller_phone="",
        address="", region=region, area_kind=region.area_kind, received_at=row.received_at,
        rule_version="marketing-export", source=SOURCE,
        status=TicketStatus.in_progress if row.is_open else TicketStatus.closed,
        closed_at=None if row.is_open else now,
        responsible_name=row.responsible_name or None,
        responsible_phone=row.responsible_phone or None,
        clocks=[TicketClock(clock=CLOCK, label="处理期限", due_at=row.deadline, warn_minutes=warn,
                            met_at=None if row.is_open else now)],
    )
    ticket.events.append(Event(at=now, kind="imported", actor="营销系统",
                               message="从营销系统导入工单"))
    session.add(ticket)
    return ticket


def _update(ticket: Ticket, row: ExportRow, now: datetime) -> None:
    clock = next(c for c in ticket.clocks if c.clock == CLOCK)
    changes = []
    if clock.due_at != row.deadline:
        changes.append("处理期限")
        clock.due_at = row.deadline
    was_open = ticket.status != TicketStatus.closed
    if was_open != row.is_open:
        changes.append("状态")
        ticket.status = TicketStatus.in_progress if row.is_open else TicketStatus.closed
        ticket.closed_at = None if row.is_open else now
        clock.met_at = None if row.is_open else now
    ticket.content = row.content
    ticket.responsible_name = row.responsible_name or None
    ticket.responsible_phone = row.responsible_phone or None
    if changes:
        ticket.events.append(Event(at=now, kind="import-updated", actor="营销系统",
                                   message="营销系统更新：" + "、".join(changes)))
