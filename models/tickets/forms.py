"""The forms people fill at each lifecycle step: plain pydantic models, Chinese for the user.

The same model is the Prefect resume form (wrapped as a RunInput by the flow), the portal's form
and the schema `gridline step complete --data` is checked against. A form's `result` field, when it
has one, is the outcome the lifecycle declaration's transitions are keyed on.
"""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models.core.errors import InputError, StepFormError, field_messages


class Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AnswerConsultation(Form):
    """坐席受理咨询：用已审定的答复口径直接答复，或转业务部门。"""

    model_config = ConfigDict(title="咨询答复")
    result: Literal["已答复", "转部门"] = Field(
        title="处理方式", description="已答复：按统一答复口径当场答复客户；转部门：交业务部门答复")
    reply_text: str | None = Field(None, title="答复内容", description="已答复时必填")

    @model_validator(mode="after")
    def _reply_when_answered(self):
        if self.result == "已答复" and not self.reply_text:
            raise InputError("reply_text", "已答复时须填写答复内容",
                             "required when the result is 已答复")
        return self


class ContactCustomer(Form):
    """投诉受理后联系客户，了解诉求，并决定交责任部门还是纪检监察。"""

    model_config = ConfigDict(title="联系客户")
    result: Literal["转责任部门", "转纪检监察"] = Field(
        title="处理去向", description="涉及员工违规违纪的投诉转纪检监察")
    note: str = Field(min_length=1, title="联系情况", description="联系时间、方式与客户诉求")


class DepartmentReply(Form):
    """责任部门处理后回单；不属于本部门的工单可退单并说明原因。"""

    model_config = ConfigDict(title="部门回单")
    result: Literal["已处理", "退单"] = Field(title="处理结果", description="退单须说明原因")
    reply_text: str = Field(min_length=1, title="处理情况", description="处理经过与答复意见，或退单原因")


class Redispatch(Form):
    """中心对退回的工单重新派发（转派）。"""

    model_config = ConfigDict(title="转派")
    department: str = Field(min_length=1, title="接收部门编码", description="如 D3201-marketing")
    note: str = Field("", title="转派说明")


class CentreReview(Form):
    """中心审核部门回单，不合格的退回部门重新处理。"""

    model_config = ConfigDict(title="中心审核")
    result: Literal["通过", "退回"] = Field(title="审核结论")
    opinion: str = Field("", title="审核意见", description="退回时写明原因")


class ReplyCustomer(Form):
    """坐席将处理结果答复客户。"""

    model_config = ConfigDict(title="答复客户")
    reply_text: str = Field(min_length=1, title="答复内容")


class Callback(Form):
    """回访客户，记录满意度。"""

    model_config = ConfigDict(title="回访")
    result: Literal["满意", "不满意", "联系不上"] = Field(title="回访结果")
    note: str = Field("", title="客户意见")


class Arrival(Form):
    """抢修人员到达现场。"""

    model_config = ConfigDict(title="到达现场")
    arrived_at: datetime | None = Field(
        None, title="到达时间", description="抢修人员实际到达现场的时间；留空即为当前时间")
    note: str = Field("", title="现场情况", description="故障原因初判等")


class Restoration(Form):
    """抢修完成，恢复供电。"""

    model_config = ConfigDict(title="恢复供电")
    cause: str = Field(min_length=1, title="故障原因")
    note: str = Field("", title="处理情况")


class SupervisorDecision(Form):
    """值班长处理多次不满意的升级工单。"""

    model_config = ConfigDict(title="值班长处理")
    decision: str = Field(min_length=1, title="处理意见")


FORMS: dict[str, type[BaseModel]] = {
    "answer_consultation": AnswerConsultation,
    "contact_customer": ContactCustomer,
    "department_reply": DepartmentReply,
    "redispatch": Redispatch,
    "centre_review": CentreReview,
    "reply_customer": ReplyCustomer,
    "callback": Callback,
    "arrival": Arrival,
    "restoration": Restoration,
    "supervisor_decision": SupervisorDecision,
}


def validate_form(form: str, data: dict) -> BaseModel:
    """The filled form, or a StepFormError naming every bad field in Chinese."""
    model = FORMS[form]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise StepFormError(field_messages(exc, model)) from exc
