"""上报 / 退回 (DHIS2's data approval): a unit's report for one period is filled (figures computed,
some entered), submitted to the level above, approved or sent back with a reason. A parent is
approved only after all its children; approval locks the figures; every change after 上报 is
logged. The rules are one pure function, `transition`, so a lifecycle can take it over."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.core.base import Base, UTCDateTime, enum_column
from models.core.enums import Labelled, StaffRole
from models.core.errors import InputError
from models.org.organisation import Region


class ApprovalStatus(Labelled):
    draft = "draft", "待上报"
    submitted = "submitted", "已上报"
    approved = "approved", "已审核"
    returned = "returned", "已退回"


class Action(StrEnum):
    submit = "submit"    # 上报: by the unit itself
    approve = "approve"  # 审核通过: by a level above
    send_back = "send_back"  # 退回: by a level above, with a reason
    edit = "edit"        # entered figures changed


ACTION_LABELS = {Action.submit: "上报", Action.approve: "审核通过", Action.send_back: "退回",
                 Action.edit: "修改填报"}


class Submission(Base):
    __tablename__ = "report_submissions"
    __table_args__ = (UniqueConstraint("report", "period_start", "region_id",
                                       name="uq_report_submissions_unit_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report: Mapped[str] = mapped_column(String(50))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    status: Mapped[ApprovalStatus] = enum_column(ApprovalStatus, default=ApprovalStatus.draft)
    computed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {indicator: shown}
    entered: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)   # {field: text}
    reason: Mapped[str | None] = mapped_column(Text)  # the last 退回's
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    region: Mapped[Region] = relationship()


class SubmissionLog(Base):
    """Every transition, and every change after 上报: rows are only ever added."""

    __tablename__ = "report_submission_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("report_submissions.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# Who answers for a unit's figures: submits, approves, sends back. Anyone of the unit may enter.
DECIDING_ROLES = frozenset({StaffRole.head, StaffRole.supervisor, StaffRole.admin})


def transition(status: ApprovalStatus, action: Action, *, own_unit: bool, above: bool,
               children_approved: bool, parent_approved: bool, decides: bool = True,
               reason: str = "") -> ApprovalStatus:
    """The status after `action`, or one clear InputError saying why not.

    own_unit: the actor belongs to the unit; above: to a level above it (for the top unit, which
    has none, its own deciders approve); children_approved: every unit below has its report
    approved; parent_approved: the unit above has approved its own (then nothing below may
    move); decides: the actor's role is one of DECIDING_ROLES."""
    if action != Action.edit and not decides:
        raise _no("只有部门负责人、值班长或管理员可以上报、审核或退回",
                  "only a head, supervisor or admin submits, approves or sends back")
    if parent_approved and action != Action.edit:
        raise _no("上级单位已审核，本单位报表已锁定", "the level above has approved: locked")
    if action == Action.edit:
        if status == ApprovalStatus.approved:
            raise _no("报表已审核，数据已锁定", "approved figures are locked")
        if not own_unit:
            raise _no("只有本单位可以修改填报数据", "only the unit itself enters its figures")
        return status
    if action == Action.submit:
        if not own_unit:
            raise _no("只有本单位可以上报", "only the unit itself submits")
        if status not in (ApprovalStatus.draft, ApprovalStatus.returned):
            raise _no(f"报表{status.label}，不能再次上报", f"cannot submit when {status}")
        return ApprovalStatus.submitted
    if not above:
        raise _no("只有上级单位可以审核或退回", "only a level above approves or sends back")
    if action == Action.approve:
        if status != ApprovalStatus.submitted:
            raise _no(f"报表{status.label}，不能审核", f"cannot approve when {status}")
        if not children_approved:
            raise _no("下级单位的报表尚未全部审核，不能审核本级", "children are not all approved")
        return ApprovalStatus.approved
    if status not in (ApprovalStatus.submitted, ApprovalStatus.approved):
        raise _no(f"报表{status.label}，不能退回", f"cannot send back when {status}")
    if not reason.strip():
        raise _no("退回须填写原因", "a send-back needs a reason")
    return ApprovalStatus.returned


def _no(zh: str, en: str) -> InputError:
    return InputError("action", zh, en)
