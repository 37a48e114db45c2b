"""Call records: reading an export, storing the good rows, and the history the planner reads."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import ValidationError
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from models.core.days import local_day_start
from models.core.errors import input_error
from models.workforce.calls import CallRow, column_name, parse_call_row
from models.workforce.forecast import History
from models.workforce.tables import CallRecord
from tasks.core import spreadsheets
from tasks.statistics.rollup import mark_stale


def read_rows(path: Path) -> Iterator[tuple[int, dict]]:
    """(row number as the user sees it, the row by our column names)."""
    for number, row in spreadsheets.read_rows(path):
        yield number, {column_name(header): value for header, value in row.items()}


@dataclass
class ImportReport:
    added: int = 0
    duplicates: int = 0
    bad: list[dict] = field(default_factory=list)  # {"row", "field", "reason"}


def import_calls(session: Session, rows: Iterator[tuple[int, dict]], timezone: str) -> ImportReport:
    """Validate every row; store the good ones in the caller's transaction (all of them or none).
    A call id already stored, or repeated in the file, is a duplicate, not an error."""
    report, good, seen = ImportReport(), [], set()
    for number, raw in rows:
        try:
            row = parse_call_row(raw, timezone)
        except ValidationError as exc:
            error = input_error(exc, CallRow)
            report.bad.append({"row": number, "field": error.field,
                               "reason": f"{error.zh} | {error.en}"})
            continue
        if row.call_id:
            if row.call_id in seen:
                report.duplicates += 1
                continue
            seen.add(row.call_id)
        good.append(row)
    ids = [r.call_id for r in good if r.call_id]
    stored = set()
    for chunk in range(0, len(ids), 500):
        stored |= set(session.scalars(select(CallRecord.call_id)
                                      .where(CallRecord.call_id.in_(ids[chunk:chunk + 500]))))
    fresh = [r for r in good if r.call_id not in stored]
    report.duplicates += len(good) - len(fresh)
    if fresh:  # one executemany, no objects: an export has many thousands of rows
        session.execute(insert(CallRecord), [r.model_dump() for r in fresh])
        mark_stale(session, instants=[r.offered_at for r in fresh])  # past days' call figures
    report.added = len(fresh)
    return report


def load_history(session: Session, *, before: date, days: int, timezone: str,
                 interval_minutes: int) -> dict[str, History]:
    """Calls per group, local day and interval, for the whole days before `before`."""
    first = before - timedelta(days=days)
    slots = 24 * 60 // interval_minutes
    rows = session.execute(
        select(CallRecord.group, CallRecord.offered_at)
        .where(CallRecord.offered_at >= local_day_start(first, timezone),
               CallRecord.offered_at < local_day_start(before, timezone)))
    counts: dict[str, np.ndarray] = {}
    zone = ZoneInfo(timezone)  # plain zoneinfo: millions of rows, a microsecond each
    for group, offered in rows:
        local = offered.astimezone(zone)
        grid = counts.setdefault(group, np.zeros((days, slots), dtype=np.int64))
        grid[(local.date() - first).days, (local.hour * 60 + local.minute) // interval_minutes] += 1
    # Start each group at its first day with calls, so days before its history are not zeros.
    histories = {}
    for group, grid in counts.items():
        start = int(np.argmax(grid.sum(axis=1) > 0))
        histories[group] = History(first + timedelta(days=start), grid[start:])
    return histories


def average_handle_times(session: Session, *, since: datetime) -> dict[str, float]:
    """Talk plus wrap-up seconds of answered calls, per group."""
    rows = session.execute(
        select(CallRecord.group, func.avg(CallRecord.talk_s + CallRecord.wrap_s))
        .where(CallRecord.answered.is_(True), CallRecord.offered_at >= since)
        .group_by(CallRecord.group))
    return {group: float(aht) for group, aht in rows}
