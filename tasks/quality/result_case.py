"""质检结果申诉 on the lifecycle engine: the quality_result subject's adapter. A case runs over an
inspection whose result failed (ref_id: the inspection); each `status:` of its page is one move
of the result's own rule (tasks.quality.results, checked by models.quality.lifecycle.transition),
so a refusal (the inspector as reviewer, a window ended) leaves the step open and writes nothing."""

from datetime import datetime

from sqlalchemy.orm import Session

from models.cases.case import Case
from models.core.errors import InputError
from models.org.organisation import Staff
from models.quality.lifecycle import Action
from models.quality.scorecard import parse_scorecard
from models.quality.tables import Inspection, Result
from tasks.quality.results import appeal, current, publish_lapsed_result, review

REVIEWS = {"upheld": Action.uphold, "amended": Action.amend}


def transition(session: Session, case: Case, status: str, by: Staff | None, data: dict,
               now: datetime) -> None:
    result = current(session, case.ref_id)
    if status == "published":  # the window lapsed: as it stands
        publish_lapsed_result(session, result, now=now)
        return
    if by is None:
        raise InputError("by", "申诉与复核须由具体人员在门户办理", "a person appeals and reviews")
    if status == "appealed":
        appeal(session, by, result, data.get("reason") or "", now=now)
        return
    answers = unmet_answers(result, data.get("unmet") or "") if status == "amended" else None
    review(session, by, result, REVIEWS[status], data.get("note") or "", now=now, answers=answers)


def unmet_answers(result: Result, unmet: str) -> dict[str, bool]:
    """An amendment's answers: every item met but those named (comma-separated codes)."""
    card = parse_scorecard(result.card.text).card
    named = {k.strip() for k in unmet.replace("，", ",").split(",") if k.strip()}
    unknown = sorted(named - {item.key for item in card.items})
    if unknown:
        raise InputError("unmet", f"评分表中没有项目：{'、'.join(unknown)}",
                         f"no items {unknown} on the scorecard")
    return {item.key: item.key not in named for item in card.items}


def person(session: Session, case: Case, name: str) -> Staff | None:
    inspection = session.get(Inspection, case.ref_id)
    return inspection.agent if name == "agent" and inspection else None


def due(session: Session, case: Case, step_key: str) -> datetime | None:
    """The appeal step lapses when the result's window ends (its plan's appeal_days of working
    days from its scoring), not when the run reached the step."""
    result = current(session, case.ref_id)
    return result.window_ends_at if step_key == "appeal" and result else None


def describe(session: Session, case: Case) -> str:
    result = current(session, case.ref_id)
    if result is None:
        return ""
    inspection = result.inspection
    return (f"- 坐席：{inspection.agent.name}\n- 质检员：{inspection.inspector.name}\n"
            f"- 工单：{inspection.ticket.number}\n- 得分：{result.score:g}（{result.status.label}）\n"
            f"- 质检说明：{result.note or '—'}\n")


def link(session: Session, case: Case) -> str | None:
    result = current(session, case.ref_id)
    return None if result is None else f"/quality/result/{result.id}"
