"""The working calendar as stored: official data, the centre's overrides, loaded schedules."""

import csv
from datetime import date, time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.errors import InputError
from models.tickets.calendar import CalendarOverride, WorkCalendar
from models.workforce.forecast import DayKinds, override_kind
from tasks.core.settings import Settings, get_settings

_TRUE = {"1", "true", "yes", "work", "working", "班", "上班", "工作日"}
_FALSE = {"0", "false", "no", "off", "holiday", "休", "休息", "节假日"}


def load_work_calendar(session: Session, timezone: str, day_start: time = time(0),
                       day_end: time | None = None) -> WorkCalendar:
    rows = session.scalars(select(CalendarOverride)).all()
    return WorkCalendar(
        timezone=timezone,
        overrides={r.day: r.is_working for r in rows},
        loaded_years=frozenset(r.day.year for r in rows if r.source == "official"),
        day_start=day_start,
        day_end=day_end,
    )


def centre_calendar(session: Session, settings: Settings | None = None) -> WorkCalendar:
    """The working calendar with the centre's time zone and working hours from the settings."""
    settings = settings or get_settings()
    return load_work_calendar(session, settings.timezone, settings.workday_start,
                              settings.workday_end)


def load_day_kinds(session: Session) -> DayKinds:
    """Loaded official schedules as the forecast sees them (holiday, workday, restday). The centre's
    own local days stay out: callers follow the public calendar, not the centre's office days."""
    rows = session.scalars(select(CalendarOverride).where(CalendarOverride.source == "official"))
    return {r.day: override_kind(r.day, r.is_working, r.note) for r in rows}


def read_calendar_file(path: Path) -> list[CalendarOverride]:
    """A CSV of `date,working[,note]` rows, e.g. `2027-02-06,休,春节`. Every row is checked first."""
    rows: list[CalendarOverride] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line_no, record in enumerate(csv.reader(handle), start=1):
            if not record or record[0].strip().startswith("#") or record[0].strip() == "date":
                continue
            try:
                day = date.fromisoformat(record[0].strip())
            except ValueError:
                raise InputError(f"line {line_no}", "日期格式无效", f"bad date {record[0]!r}") from None
            flag = record[1].strip().lower() if len(record) > 1 else ""
            if flag not in _TRUE | _FALSE:
                raise InputError(f"line {line_no}", "须注明上班或休息",
                                 f"second column must say working or off, got {flag!r}")
            note = record[2].strip() if len(record) > 2 else ""
            rows.append(CalendarOverride(day=day, is_working=flag in _TRUE, note=note))
    return rows


def store_calendar(session: Session, rows: list[CalendarOverride], source: str) -> int:
    for row in rows:
        row.source = source
        session.merge(row)
    return len(rows)
