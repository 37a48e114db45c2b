"""上报 / 退回 as a use case: a unit's submission for a report and period (its computed figures
taken from the one scope rule, refreshed until 上报 freezes them), and each action checked by
models.statistics.approval.transition with what only the database knows, then logged."""

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.errors import InputError
from models.org.organisation import Staff
from models.statistics.approval import (
    DECIDING_ROLES,
    Action,
    ApprovalStatus,
    Submission,
    SubmissionLog,
    transition,
)
from models.statistics.reports import ReportSpec, period_end
from tasks.statistics.aggregations import indicators
from tasks.statistics.figures import Statistics, Unit, local_period, shown

OPEN = (ApprovalStatus.draft, ApprovalStatus.returned)


def _find(session: Session, report: str, first: date, region_id: int) -> Submission | None:
    return session.scalar(select(Submission).where(
        Submission.report == report, Submission.period_start == first,
        Submission.region_id == region_id))


def computed(stats: Statistics, spec: ReportSpec, first: date, region_id: int,
             now: datetime, timezone: str) -> dict[str, str]:
    period = local_period(first, period_end(spec.period, first), timezone, now)
    figures = {}
    for key in spec.indicators:
        indicator = indicators().get(key)
        if stats.sees(indicator):
            value = stats.figures(indicator, period, Unit(region_id)).total.value
            figures[indicator.label] = shown(indicator.kind, value)
    return figures


def submission(session: Session, stats: Statistics, spec: ReportSpec, first: date,
               region_id: int, *, now: datetime, timezone: str) -> Submission:
    """The unit's submission (a draft the first time); figures recomputed while it is open."""
    stats.check(Unit(region_id))
    found = _find(session, spec.key, first, region_id)
    if found is None:
        found = Submission(report=spec.key, period_start=first,
                           period_end=period_end(spec.period, first), region_id=region_id,
                           status=ApprovalStatus.draft, computed={}, entered={}, updated_at=now)
        session.add(found)
    if found.status in OPEN:
        found.computed = computed(stats, spec, first, region_id, now, timezone)
    session.flush()
    return found


def status_of(session: Session, report: str, first: date, region_id: int) -> ApprovalStatus:
    found = _find(session, report, first, region_id)
    return found.status if found else ApprovalStatus.draft


def act(session: Session, stats: Statistics, staff: Staff, spec: ReportSpec, row: Submission,
        action: Action, *, now: datetime, reason: str = "",
        entered: dict[str, str] | None = None) -> Submission:
    region = row.region_id
    own = staff.department.region_id == region
    children = stats.tree.children.get(region, [])
    parent = stats.tree.regions[region].parent_id
    row.status = transition(
        row.status, action, own_unit=own, decides=staff.role in DECIDING_ROLES,
        above=region in stats.viewer.region_ids and (not own or parent is None),
        children_approved=all(status_of(session, spec.key, row.period_start, child)
                              == ApprovalStatus.approved for child in children),
        parent_approved=parent is not None and status_of(
            session, spec.key, row.period_start, parent) == ApprovalStatus.approved,
        reason=reason)
    detail: dict = {"status": row.status.value}
    if action == Action.edit:
        unknown = set(entered or {}) - set(spec.entered)
        if unknown:
            raise InputError("entered", "没有这个填报项", f"unknown fields {sorted(unknown)}")
        changes = {k: [row.entered.get(k, ""), v] for k, v in (entered or {}).items()
                   if row.entered.get(k, "") != v}
        row.entered = {**row.entered, **(entered or {})}
        detail["changes"] = changes
    if action == Action.send_back:
        row.reason = detail["reason"] = reason.strip()
    row.updated_at = now
    session.add(SubmissionLog(submission_id=row.id, at=now, actor_id=staff.id, actor=staff.name,
                              action=action.value, detail=detail))
    session.flush()
    return row


def history(session: Session, row: Submission) -> list[SubmissionLog]:
    return list(session.scalars(select(SubmissionLog).where(SubmissionLog.submission_id == row.id)
                                .order_by(SubmissionLog.id)))
