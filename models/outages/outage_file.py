"""A row of the marketing/distribution system's outage export (停电编号, 停电类型, 停电区域,
停电线路, 停电开始时间, 预计恢复时间, 停电原因, 状态) read into an outage, or one reason in Chinese
why not. The page's entry form is read by the same rule. Pure."""

import re
from datetime import datetime
from typing import Any, NamedTuple

from models.outages.outage import OutageKind, OutageStatus
from models.tickets.marketing import parse_export_time

# (Chinese header, field)
HEADERS = [("停电编号", "number"), ("停电类型", "kind"), ("停电区域", "units"),
           ("停电线路", "lines"), ("停电开始时间", "start"), ("预计恢复时间", "restore"),
           ("停电原因", "reason"), ("状态", "status")]
REQUIRED = ("number", "kind", "units", "start", "restore", "reason")
SEPARATORS = re.compile(r"[,，;；、\s]+")
LINE_SEPARATORS = re.compile(r"[,，;；、]+")  # a line's name may hold a space: 10kV 玄武线
IMPORTED_KINDS = (OutageKind.planned, OutageKind.temporary)  # a fault outage comes from a ticket
IMPORTED_STATUSES = (OutageStatus.planned, OutageStatus.cancelled)
LIMITS = {"number": 40, "reason": 500}


class OutageRow(NamedTuple):
    number: str
    kind: OutageKind
    region_ids: tuple[int, ...]
    lines: tuple[str, ...]
    start_at: datetime
    restore_at: datetime
    reason: str
    status: OutageStatus


def missing_headers(headers: set[str]) -> list[str]:
    return [zh for zh, name in HEADERS if name in REQUIRED and zh not in headers]


def _label(name: str) -> str:
    return next(zh for zh, n in HEADERS if n == name)


def _choice(enum_members, text: str, name: str):
    for member in enum_members:
        if text in (member.value, member.label):
            return member
    choices = "/".join(m.label for m in enum_members)
    raise ValueError(f"{_label(name)}“{text}”无效，可选：{choices}")


def read_outage(values: dict[str, Any], units: dict[str, int], timezone: str) -> OutageRow:
    """`units`: unit code -> region id. Raises ValueError with the reason."""
    cells = {name: "" if values.get(zh) is None else values.get(zh) for zh, name in HEADERS}
    text = {name: str(v).strip() if not isinstance(v, datetime) else v for name, v in cells.items()}
    missing = [_label(name) for name in REQUIRED if text[name] in ("", None)]
    if missing:
        raise ValueError(f"缺少{'、'.join(missing)}")
    for name, limit in LIMITS.items():
        if len(text[name]) > limit:
            raise ValueError(f"{_label(name)}太长，最多 {limit} 个字")
    kind = _choice(IMPORTED_KINDS, text["kind"], "kind")
    status = _choice(IMPORTED_STATUSES, text["status"], "status") if text["status"] \
        else OutageStatus.planned
    codes = [c for c in SEPARATORS.split(text["units"]) if c]
    unknown = [c for c in codes if c not in units]
    if unknown:
        raise ValueError(f"供电单位“{'、'.join(unknown)}”不存在")
    times = {}
    for name in ("start", "restore"):
        try:
            times[name] = parse_export_time(cells[name], timezone)
        except ValueError:
            raise ValueError(f"{_label(name)}“{text[name]}”无效") from None
    if times["restore"] <= times["start"]:
        raise ValueError("预计恢复时间应晚于停电开始时间")
    lines = tuple(c.strip() for c in LINE_SEPARATORS.split(text["lines"]) if c.strip())
    return OutageRow(text["number"], kind, tuple(sorted({units[c] for c in codes})), lines,
                     times["start"], times["restore"], text["reason"], status)
