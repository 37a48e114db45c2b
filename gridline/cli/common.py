"""What every command shares: warnings of the working calendar, time parsing and output, and
who is acting (a staff code's rights)."""

import json
from datetime import datetime

import pendulum
import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.errors import InputError
from models.org.organisation import Staff
from models.tickets.calendar import WorkCalendar
from tasks.core.settings import Settings, get_settings
from tasks.org.scope import Scope


def warn_fallback_years(calendar: WorkCalendar) -> None:
    """Say which years were counted Monday-Friday because no official schedule is known."""
    for year in sorted(calendar.fallback_years):
        message = (f"警告：{year} 年的法定节假日安排尚未载入，按周一至周五计算工作日；"
                   f"请用 gridline calendar load 载入官方安排 | warning: no official holiday "
                   f"schedule for {year}; working days counted Monday-Friday")
        typer.echo(message, err=True)


def parse_instant(field: str, text: str) -> datetime:
    """An ISO 8601 time that must carry its offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(field, "时间格式无效，应为 ISO 8601",
                         f"not an ISO 8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise InputError(field, "时间须带时区偏移，如 +08:00",
                         f"time needs an offset, e.g. {text}+08:00")
    return value


def local_iso(value: datetime, settings: Settings | None = None) -> str:
    tz = (settings or get_settings()).timezone
    return pendulum.instance(value).in_timezone(tz).isoformat()


def local_date(value: datetime, timezone: str):
    return pendulum.instance(value).in_timezone(timezone).date()


def echo_json(data) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def staff_scope(session: Session, code: str) -> Scope:
    """The rights of the active staff member with this code, as the portal gives them."""
    staff = session.scalar(select(Staff).where(Staff.code == code, Staff.active))
    if staff is None:
        raise InputError("by", "人员不存在或已停用", f"no active staff with code {code!r}")
    return Scope(session, staff)
