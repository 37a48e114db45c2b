"""Validation of a new ticket at the edge (CLI, API, portal, import): one clear error per field."""

from datetime import datetime

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from models.core.enums import Channel, TicketType, Urgency
from models.core.errors import InputError, input_error
from models.core.text import FREE_TEXT_MAX, has_control_characters


def normalise_phone(raw: str) -> str:
    """A Chinese mobile or landline number in national form (13812345678, 02584561234)."""
    invalid = InputError("phone", "电话号码无效", "invalid phone number")
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException as exc:
        raise invalid from exc
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        raise invalid
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
    line: str | None = Field(None, max_length=50)  # 线路, optional
    content: str = Field(max_length=FREE_TEXT_MAX)
    region: str | None = Field(None, max_length=32)
    received_at: datetime | None = None

    @field_validator("subtype", "phone", "name", "address", "line", "region", mode="before")
    @classmethod
    def _one_line(cls, value):
        if isinstance(value, str) and has_control_characters(value):
            raise InputError("text", "不能包含控制字符", "control characters are not allowed")
        return value

    @field_validator("content", mode="before")
    @classmethod
    def _text(cls, value):
        if isinstance(value, str) and has_control_characters(value, multiline=True):
            raise InputError("text", "不能包含控制字符", "control characters are not allowed")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalise_phone(value)

    @field_validator("name", "address", "content")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value:
            raise InputError("", "不能为空", "must not be empty")
        return value

    @field_validator("received_at")
    @classmethod
    def _offset(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise InputError("", "时间须带时区偏移，如 +08:00",
                             "time needs an offset, e.g. 2026-11-23T09:30:00+08:00")
        return value


def parse_intake(data: dict) -> TicketIntake:
    """Validate, or raise an InputError for the first bad field."""
    try:
        return TicketIntake.model_validate(data)
    except ValidationError as exc:
        raise input_error(exc, TicketIntake) from exc
