"""How moments, spans and phone numbers are shown to people: one format for SMS, e-mail, pages
and the Prefect UI."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def local_time(value: datetime | None, timezone: str) -> str:
    """A moment as the centre reads it, to the minute (2026-11-25 15:00); zoneinfo, as pendulum
    re-reads the zone file on every conversion and messages and pages format thousands."""
    return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M") if value else ""


def utc_iso(value: datetime | None) -> str | None:
    """An instant as other systems read it (API answers, webhooks): ISO 8601 in UTC, the same
    whichever time zone the value was computed in."""
    return value.astimezone(UTC).isoformat() if value is not None else None


def span_text(span: timedelta) -> str:
    """A span as people say it: 2天3小时, 5小时20分, 12分钟."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{mins}分" if mins else f"{hours}小时"
    return f"{mins}分钟"


def mask_phone(phone: str | None) -> str:
    """138****8000: staff see enough to recognise a caller, not the whole number."""
    if not phone:
        return ""
    digits = str(phone)
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
