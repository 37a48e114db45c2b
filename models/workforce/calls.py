"""One row of a call-record export (csv or xlsx), validated: Chinese or English column names."""

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.core.errors import InputError

# Column names as the telephony systems export them, in Chinese, mapped to ours.
HEADERS = {
    "话单编号": "call_id", "呼入时间": "offered_at", "业务组": "group", "是否接通": "answered",
    "等待时长": "wait_s", "通话时长": "talk_s", "话后处理时长": "wrap_s",
}
YES = {"1", "true", "yes", "y", "是", "接通", "answered"}
NO = {"0", "false", "no", "n", "否", "放弃", "未接通", "abandoned"}


class CallRow(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    call_id: str | None = None
    offered_at: datetime
    group: str = Field(min_length=1, max_length=50)
    answered: bool
    wait_s: float = Field(ge=0)
    talk_s: float = Field(0, ge=0)
    wrap_s: float = Field(0, ge=0)

    @field_validator("answered", mode="before")
    @classmethod
    def _yes_no(cls, value):
        text = str(value).strip().lower()
        if text in YES:
            return True
        if text in NO:
            return False
        raise InputError("", "须为 1/0、是/否 或 接通/放弃", "expected 1/0, 是/否 or 接通/放弃")


def column_name(header: str) -> str:
    header = str(header or "").strip()
    return HEADERS.get(header, header.lower())


def parse_call_row(raw: dict, timezone: str) -> CallRow:
    """Validate one row; a time without offset is the centre's local time, as exports write it."""
    data = {k: v for k, v in raw.items() if v not in (None, "")}
    row = CallRow.model_validate(data)
    if row.offered_at.tzinfo is None:
        row.offered_at = row.offered_at.replace(tzinfo=ZoneInfo(timezone))
    return row
