"""质检结果 as use cases on the lifecycle engine: scoring publishes a pass at once and opens a
fail's 质检结果申诉 case (flows/lifecycles/cases/quality_result.yaml); the agent's appeal and the
reviewer's 维持/改判 complete that case's steps, whose `status:` applies the result's own rule
(tasks/quality/result_case.py), so a refusal writes nothing."""

from datetime import datetime

from sqlalchemy.orm import Session

from flows.cases import complete_case_step, start_case
from models.core.errors import InputError
from models.org.organisation import Staff
from models.quality.lifecycle import Action, ResultStatus
from models.quality.tables import Inspection, Result
from tasks.cases.store import open_case_of
from tasks.quality.case_opening import KIND, title_of
from tasks.quality.results import current, score_inspection

OUTCOMES = {Action.uphold: "维持", Action.amend: "改判"}


def score(session: Session, staff: Staff, inspection: Inspection, answers: dict[str, bool],
          note: str, *, now: datetime) -> Result:
    """Score in the caller's transaction; a fail's case run starts once that commits."""
    result = score_inspection(session, staff, inspection, answers, note, now=now)
    if result.status == ResultStatus.prepublished:
        start_case(session, KIND, inspection.id, inspection.agent.department.region_id,
                   title_of(inspection), opened_by=staff, now=now)
    return result


def case_number(session: Session, result: Result) -> str:
    """The open case of the result's inspection (one clear refusal when there is none)."""
    case = open_case_of(session, KIND, result.inspection_id)
    if case is None:
        raise InputError("result", f"结果{result.status.label}，没有待办理的申诉流程",
                         f"no open case for a {result.status} result")
    return case.number


def appeal_result(number: str, staff_id: int, reason: str, *, now: datetime) -> None:
    complete_case_step(number, "appeal", {"result": "申诉", "reason": reason}, staff_id, now=now)


def review_result(session: Session, number: str, staff_id: int, action: Action, note: str,
                  unmet: list[str], *, now: datetime, inspection_id: int) -> Result:
    """维持 or 改判 (every item met but `unmet`); returns the result now in force."""
    if action not in OUTCOMES:
        raise InputError("action", "复核只能维持或改判", f"{action} is not a review")
    data = {"result": OUTCOMES[action], "note": note}
    if action == Action.amend and unmet:
        data["unmet"] = ",".join(unmet)
    complete_case_step(number, "review", data, staff_id, now=now)
    session.expire_all()
    return current(session, inspection_id)
