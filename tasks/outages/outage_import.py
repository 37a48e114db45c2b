"""`gridline outages import` and the board's upload: planned outages from the marketing or
distribution system's export (xlsx or csv, Chinese headers), upserted by 停电编号.

The whole file is checked first (units, times, duplicate numbers, an outage already restored);
with any bad row nothing is written and every bad row is listed."""

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.org.organisation import Region
from models.outages.outage import Outage, OutageStatus
from models.outages.outage_file import OutageRow, missing_headers, read_outage
from tasks.core.spreadsheets import read_rows_with
from tasks.outages.register import save_outage

MAX_REPORTED = 200


@dataclass
class OutageReport:
    rows: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)


def check_rows(session: Session, path: Path, timezone: str) -> tuple[list[OutageRow], OutageReport]:
    """Every row of the file read and checked; the report lists the bad ones."""
    units = dict(session.execute(select(Region.code, Region.id)).all())
    restored = set(session.scalars(select(Outage.number)
                                   .where(Outage.status == OutageStatus.restored)))
    report, rows, seen = OutageReport(), [], set()
    for number, values in read_rows_with(path, missing_headers):
        report.rows += 1
        try:
            row = read_outage(values, units, timezone)
            if row.number in seen:
                raise ValueError(f"停电编号“{row.number}”在文件中重复")
            if row.number in restored:
                raise ValueError(f"停电编号“{row.number}”已恢复供电，不能再修改")
        except ValueError as exc:
            if len(report.errors) < MAX_REPORTED:
                report.errors.append((number, str(exc)))
            continue
        seen.add(row.number)
        rows.append(row)
    return rows, report


def import_outages(session: Session, path: Path, *, timezone: str, by: str,
                   now: datetime) -> OutageReport:
    rows, report = check_rows(session, path, timezone)
    if report.errors:
        return report
    for row in rows:
        outage, what = save_outage(session, row, by=by, now=now)
        getattr(report, what).append(outage.number)
    return report
