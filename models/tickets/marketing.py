"""Tickets that live in the utility's marketing system (营销系统), watched through its export:
how the export's columns map to ours, and the validation of one row."""

from datetime import datetime

import pendulum
from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.core.enums import TicketType
from models.tickets.intake import normalise_phone
from models.tickets.rules import natural_span


class ExportMapping(BaseModel):
    """Column headers of the export and the words it uses; load your own from YAML."""

    model_config = ConfigDict(extra="forbid")

    number: str = "工单编号"
    type: str = "业务类型"
    content: str = "工单内容"
    received_at: str = "受理时间"
    deadline: str = "处理期限"
    status: str = "工单状态"
    responsible_name: str = "责任人"
    responsible_phone: str = "责任人电话"
    region: str | None = "供电单位编码"  # optional column: the ticket's region code
    type_names: dict[str, TicketType] = Field(default_factory=lambda: {
        **{t.label: t for t in TicketType}, "咨询": TicketType.consultation,
        "查询": TicketType.consultation, "报修": TicketType.fault_repair,
        "意见建议": TicketType.opinion})
    open_statuses: list[str] = ["未处理", "待处理", "处理中", "已派单"]
    closed_statuses: list[str] = ["已处理", "已办结", "已归档", "已回访"]
    warn: str = "24 hours"  # about-to-expire window of an imported deadline

    @field_validator("warn")
    @classmethod
    def _warn(cls, value: str) -> str:
        return natural_span(value)


class ExportRow(BaseModel):
    """One row, validated; naive times in the export are the centre's local time."""

    number: str = Field(min_length=1)
    type: TicketType
    content: str = Field(min_length=1)
    received_at: datetime
    deadline: datetime
    is_open: bool
    responsible_name: str = ""
    responsible_phone: str = ""
    region: str | None = None

    @field_validator("responsible_phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalise_phone(value) if value else ""


def parse_export_time(value, timezone: str) -> datetime:
    """A cell of the export: an Excel datetime, or text such as 2026-11-20 10:00[:00] or 2026/11/20."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value or "").strip().replace("/", "-")
        if not text:
            raise ValueError("empty time")
        try:
            moment = pendulum.parse(text, strict=False, tz=None)
        except ValueError:  # pendulum's ParserError is a ValueError
            raise ValueError(f"not a time: {value!r}") from None
    if moment.tzinfo is None:
        moment = pendulum.timezone(timezone).convert(moment)  # wall-clock time of the centre
    return moment
