"""Validation of a new ticket at the edge (CLI, API, portal, import): one clear error per field."""

from datetime import datetime

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from models.core.enums import Channel, TicketType, Urgency
from models.core.errors import InputError
from models.core.text import FREE_TEXT_MAX, has_control_characters


def normalise_phone(raw: str) -> str:
    """A Chinese mobile or landline number in national form (13812345678, 02584561234)."""
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("invalid phone number") from exc
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        raise ValueError("invalid phone number")
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit())


class TicketIntake(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    # Lengths are the columns' (tickets, customers), so nothing is cut or refused by the database.
    type: TicketType
    subtype: str | None = Field(None, max_length=50)
    channel: Channel = Channel.phone
    urgency: Urgency = Urgency.normal
    phone: str = Field(max_length=40)  # normalised to at most 20 digits
    name: str = Field(max_length=100)
    address: str = Field(max_length=300)
    content: str = Field(max_length=FREE_TEXT_MAX)
    region: str | None = Field(None, max_length=32)
    received_at: datetime | None = None

    @field_validator("subtype", "phone", "name", "address", "region", mode="before")
    @classmethod
    def _one_line(cls, value):
        if isinstance(value, str) and has_control_characters(value):
            raise ValueError("control characters are not allowed")
        return value

    @field_validator("content", mode="before")
    @classmethod
    def _text(cls, value):
        if isinstance(value, str) and has_control_characters(value, multiline=True):
            raise ValueError("control characters are not allowed")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalise_phone(value)

    @field_validator("name", "address", "content")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("received_at")
    @classmethod
    def _offset(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("time needs an offset, e.g. 2026-11-23T09:30:00+08:00")
        return value


_ZH = {
    "missing": "缺少必填项",
    "enum": "取值无效",
    "string_too_short": "不能为空",
    "string_too_long": "太长，最多 {max_length} 个字",
    "datetime_from_date_parsing": "时间格式无效",
    "datetime_parsing": "时间格式无效",
    "extra_forbidden": "不支持的字段",
}
_ZH_MESSAGES = {
    "invalid phone number": "电话号码无效",
    "must not be empty": "不能为空",
    "time needs an offset": "时间须带时区偏移",
    "control characters": "不能包含控制字符",
}


def parse_intake(data: dict) -> TicketIntake:
    """Validate, or raise an InputError for the first bad field."""
    try:
        return TicketIntake.model_validate(data)
    except ValidationError as exc:
        raise as_input_error(exc) from exc


def as_input_error(exc: ValidationError) -> InputError:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "input"
    en = first["msg"].removeprefix("Value error, ")
    if first["type"] == "enum" and field == "type":
        en += f" (choose from {TicketType.choices()})"
    zh = (_ZH.get(first["type"]) or next(
        (zh for key, zh in _ZH_MESSAGES.items() if en.startswith(key)), "输入无效")
          ).format(**(first.get("ctx") or {}))
    return InputError(field, zh, en)
