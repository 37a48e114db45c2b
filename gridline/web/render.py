"""How times, deadlines and urgency look on the pages (Asia/Shanghai, Chinese)."""

from datetime import datetime, timedelta
from pathlib import Path

from fastapi.templating import Jinja2Templates

from models.core.formatting import local_time, mask_phone, span_text
from models.core.paths import TEMPLATES_DIR
from tasks.core.settings import Settings

TEMPLATES = TEMPLATES_DIR / "portal"


def urgency(due: datetime | None, now: datetime, warning: timedelta) -> str:
    """green, amber (about to expire) or red (overdue)."""
    if due is None:
        return "green"
    if due <= now:
        return "red"
    return "amber" if due - now <= warning else "green"


def time_left(due: datetime | None, now: datetime) -> str:
    """As the reminders say it (span_text), so the portal and the SMS agree."""
    if due is None:
        return "无期限"
    return f"已超期 {span_text(now - due)}" if due <= now else f"剩余 {span_text(due - now)}"


def make_templates(settings: Settings, directory: Path = TEMPLATES) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(directory))
    templates.env.auto_reload = False  # pages ship with the release: no file stat per render
    templates.env.filters["local_time"] = lambda value: local_time(value, settings.timezone)
    templates.env.filters["mask_phone"] = mask_phone
    templates.env.globals["time_left"] = time_left
    templates.env.globals["warning"] = timedelta(hours=settings.portal.expiry_warning_hours)
    templates.env.globals["minutes"] = lambda count: timedelta(minutes=count)
    templates.env.globals["urgency"] = urgency
    return templates
