"""上报 / 退回 on the lifecycle engine (flows/lifecycles/cases/report_submission.yaml): the first
上报 opens the submission's case, reviewed by the level above; 审核通过 and 退回 complete its review
step, and a 上报 after a 退回 completes its resubmit step. Each step's `status:` applies the
submission's own rule (tasks/statistics/approval_case.py), so a refusal writes nothing."""

from datetime import date, datetime

from flows.cases import complete_case_step, start_case
from models.org.organisation import Staff
from models.statistics.approval import Action
from tasks.cases.store import open_case_of
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.statistics import approval
from tasks.statistics.figures import Statistics
from tasks.statistics.reports import reports

KIND = "report_submission"
OUTCOMES = {Action.approve: "审核通过", Action.send_back: "退回"}


def act_on_report(staff_id: int, report: str, first: date, region_id: int, action: Action, *,
                  now: datetime, reason: str = "") -> str:
    """上报, 审核通过 or 退回 the unit's report through its case; returns the case number."""
    with session_scope() as session:
        staff = session.get(Staff, staff_id)
        stats, spec = Statistics(session, staff), reports().get(report)
        row = approval.submission(session, stats, spec, first, region_id, now=now,
                                  timezone=get_settings().timezone)
        case = open_case_of(session, KIND, row.id)
        key = "resubmit" if action == Action.submit else "review"
        if case is None or not any(s.step_key == key and s.status == "open" for s in case.steps):
            # Not the step this action completes: the submission's own rule says why not, or
            # (the first 上报; 退回 of an approved report) applies it directly.
            approval.act(session, stats, staff, spec, row, action, now=now, reason=reason)
            if case is not None or action != Action.submit:
                return case.number if case else ""
            above = row.region.parent_id or region_id  # the top unit reviews its own
            return start_case(session, KIND, row.id, above,
                              f"{spec.label}上报审核（{row.region.name}）", opened_by=staff,
                              now=now).number
        number = case.number
    data = {} if action == Action.submit else {"result": OUTCOMES[action], "reason": reason}
    complete_case_step(number, key, data, staff_id, now=now)
    return number
