"""Step forms generated from a pydantic model: every kind of field, Chinese errors beside the
fields, typed text kept, local date-times read in the centre's time zone."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field
from starlette.datastructures import FormData

from gridline.web.forms import read_submission, validate, widgets
from models.core.enums import Urgency


class SiteVisit(BaseModel):
    """A sample form with one field of every kind."""

    result: Literal["已处理", "退单"] = Field(title="处理结果", description="退单须说明原因")
    urgency: Urgency = Field(title="紧急程度")
    summary: str = Field(max_length=50, title="摘要")
    detail: str = Field(min_length=1, title="处理情况", description="处理经过与答复意见")
    visited_at: datetime = Field(title="到达时间")
    visit_day: date | None = Field(None, title="回访日期")
    households: int = Field(ge=0, title="影响户数")
    restored: bool = Field(title="是否已恢复供电")


def test_every_field_gets_its_widget_title_help_and_choices():
    shown = {w.name: w for w in widgets(SiteVisit)}
    assert {name: w.kind for name, w in shown.items()} == {
        "result": "choice", "urgency": "choice", "summary": "text", "detail": "textarea",
        "visited_at": "datetime", "visit_day": "date", "households": "number",
        "restored": "yesno"}
    assert shown["result"].choices == [("已处理", "已处理"), ("退单", "退单")]
    assert ("urgent", "紧急") in shown["urgency"].choices
    assert shown["detail"].title == "处理情况" and shown["detail"].help == "处理经过与答复意见"
    assert shown["households"].step == "1"
    assert shown["result"].required and not shown["visit_day"].required


def test_bad_input_is_explained_beside_each_field_and_typed_text_is_kept():
    posted = FormData([("result", "已处理"), ("urgency", "normal"), ("summary", "x" * 60),
                       ("detail", ""), ("visited_at", "2026-11-24T09:30"),
                       ("households", "-3"), ("restored", "")])
    data, typed = read_submission(SiteVisit, posted, "Asia/Shanghai")
    filled, errors = validate(SiteVisit, data)
    assert filled is None
    assert errors == {"summary": "太长，最多 50 个字", "detail": "必填",
                      "households": "不能小于 0", "restored": "必填"}
    again = {w.name: w for w in widgets(SiteVisit, typed, errors)}
    assert again["summary"].value == "x" * 60 and again["households"].value == "-3"
    assert again["detail"].error == "必填"


def test_a_good_submission_reads_local_time_and_yes_no():
    posted = FormData([("result", "退单"), ("urgency", "urgent"), ("summary", "线路老化"),
                       ("detail", "已更换表箱"), ("visited_at", "2026-11-24T09:30"),
                       ("visit_day", "2026-11-25"), ("households", "12"), ("restored", "true")])
    filled, errors = validate(SiteVisit, read_submission(SiteVisit, posted, "Asia/Shanghai")[0])
    assert errors == {}
    assert filled.visited_at.isoformat() == "2026-11-24T09:30:00+08:00"
    assert filled.restored is True and filled.households == 12
    assert filled.model_dump(mode="json")["visited_at"] == "2026-11-24T09:30:00+08:00"
