"""An inspection result's lifecycle as use cases, each checked by models.quality.lifecycle's
`transition` with what only the database knows: scoring, the agent's appeal within the window of
working days (China's calendar, 调休 included), the review, and publishing a lapsed window. The
failed result's case (flows/lifecycles/cases/quality_result.yaml) calls the last three."""

from datetime import datetime

import pendulum
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.errors import InputError
from models.org.organisation import Staff
from models.quality.lifecycle import Action, ResultStatus, transition
from models.quality.roles import reviews
from models.quality.scorecard import parse_scorecard, score
from models.quality.tables import Inspection, Result
from tasks.quality.files import QUALITY_DIR, card_in_force, plan
from tasks.tickets.calendar_store import centre_calendar


def current(session: Session, inspection_id: int) -> Result | None:
    """The latest version of an inspection's result (None: not scored yet)."""
    return session.scalar(select(Result).where(Result.inspection_id == inspection_id)
                          .order_by(Result.version.desc()).limit(1))


def versions(session: Session, inspection_id: int) -> list[Result]:
    return list(session.scalars(select(Result).where(Result.inspection_id == inspection_id)
                                .order_by(Result.version)))


def _rescored(result: Result, answers: dict[str, bool]):
    """The score of new answers against the revision the result was scored on."""
    return score(parse_scorecard(result.card.text).card, answers)


def score_inspection(session: Session, staff: Staff, inspection: Inspection,
                     answers: dict[str, bool], note: str, *, now: datetime,
                     folder=QUALITY_DIR) -> Result:
    if inspection.inspector_id != staff.id:
        raise InputError("inspection", "只有分派的质检员可以评分", "only the inspector dealt it scores")
    the_plan = plan(inspection.plan, folder)
    card = card_in_force(session, the_plan.scorecard, inspection.sample.period_start, now, folder)
    figures = score(card.card, answers)
    if not figures.passed and not note.strip():
        raise InputError("note", "不合格须填写质检说明作为依据", "a fail needs the inspector's note")
    before = current(session, inspection.id)
    status = transition(before.status if before else None, Action.score, passed=figures.passed)
    result = Result(inspection_id=inspection.id, version=1, revision=card.revision,
                    answers=answers, note=note.strip(), score=figures.total,
                    passed=figures.passed, vetoed=figures.vetoed, status=status,
                    scored_by_id=staff.id, scored_at=now)
    if status == ResultStatus.published:
        result.published_at = now
    else:
        result.window_ends_at = centre_calendar(session).add_working_days(now,
                                                                          the_plan.appeal_days)
    session.add(result)
    session.flush()
    return result


def appeal(session: Session, staff: Staff, result: Result, reason: str, *,
           now: datetime) -> Result:
    result.status = transition(result.status, Action.appeal,
                               is_agent=result.inspection.agent_id == staff.id,
                               window_open=_open(result, now), reason=reason)
    result.appeal_reason, result.appealed_at = reason.strip(), now
    session.flush()
    return result


def review(session: Session, staff: Staff, result: Result, action: Action, note: str, *,
           now: datetime, answers: dict[str, bool] | None = None) -> Result:
    """维持 publishes the result; 改判 closes it and publishes a new version with `answers`.
    Returns the result now in force."""
    if action not in (Action.uphold, Action.amend):
        raise InputError("action", "复核只能维持或改判", f"{action} is not a review")
    status = transition(result.status, action, is_inspector=staff.id in (
        result.scored_by_id, result.inspection.inspector_id), may_review=reviews(staff),
        reason=note)
    if action == Action.amend:
        figures = _rescored(result, answers or {})  # checked before anything changes
    result.status, result.reviewer_id = status, staff.id
    result.review_note, result.reviewed_at = note.strip(), now
    if action == Action.uphold:
        result.published_at = now
        session.flush()
        return result
    amended = Result(inspection_id=result.inspection_id, version=result.version + 1,
                     replaces_id=result.id, revision=result.revision, answers=answers,
                     note=note.strip(), score=figures.total, passed=figures.passed,
                     vetoed=figures.vetoed, status=ResultStatus.published, scored_by_id=staff.id,
                     scored_at=now, reviewer_id=staff.id, review_note=note.strip(),
                     reviewed_at=now, published_at=now)
    session.add(amended)
    session.flush()
    return amended


def publish_lapsed_result(session: Session, result: Result, *, now: datetime) -> Result:
    """The window ended without an appeal: the result is published as it stands (the case
    engine's lapse completes the step once, so it is published once)."""
    result.status = transition(result.status, Action.lapse, window_open=_open(result, now))
    result.published_at = now
    session.flush()
    return result


def _open(result: Result, now: datetime) -> bool:
    return result.window_ends_at is not None and pendulum.instance(now) < result.window_ends_at
