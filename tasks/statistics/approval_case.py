"""上报 / 退回 on the lifecycle engine: the report_submission subject's adapter. The case's
`status:` names the submission's status to reach; the action that reaches it is checked by the
submission's own rule (tasks.statistics.approval.act: children first, locking, the log)."""

from datetime import datetime

from sqlalchemy.orm import Session

from models.cases.case import Case
from models.core.errors import InputError
from models.org.organisation import Staff
from models.statistics.approval import Action, ApprovalStatus, Submission
from tasks.statistics import approval
from tasks.statistics.figures import Statistics
from tasks.statistics.reports import reports

ACTIONS = {ApprovalStatus.submitted: Action.submit, ApprovalStatus.approved: Action.approve,
           ApprovalStatus.returned: Action.send_back}


def transition(session: Session, case: Case, status: str, by: Staff | None, data: dict,
               now: datetime) -> None:
    if by is None:
        raise InputError("by", "报表审核须由具体人员办理", "a report is reviewed by a person")
    row = session.get(Submission, case.ref_id)
    approval.act(session, Statistics(session, by), by, reports().get(row.report), row,
                 ACTIONS[ApprovalStatus(status)], now=now, reason=data.get("reason") or "")


def describe(session: Session, case: Case) -> str:
    row = session.get(Submission, case.ref_id)
    if row is None:  # the submission is gone: the case still shows its steps
        return ""
    return (f"- 报表：{reports().get(row.report).label}\n- 单位：{row.region.name}\n"
            f"- 期间：{row.period_start} 至 {row.period_end}\n- 状态：{row.status.label}\n")


def link(session: Session, case: Case) -> str | None:
    row = session.get(Submission, case.ref_id)
    if row is None:
        return None
    return f"/approvals/unit?report={row.report}&start={row.period_start}&unit=r{row.region_id}"
