"""What the quality pages show, within the reader's scope: an inspector's queue, an agent's own
results, the reviewer's queue, and the month's published results by agent, team or unit (the
supervisor's table, and its Excel, which is the same rows)."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models.org.organisation import Department, Staff
from models.quality.lifecycle import ResultStatus
from models.quality.roles import reviews
from models.quality.tables import Inspection, Result, Sample
from tasks.core.spreadsheets import table_workbook
from tasks.org.scope import Scope
from tasks.quality.results import current

GROUPINGS = {"agent": "坐席", "team": "班组", "unit": "单位"}
SUMMARY_HEADERS = ("{by}", "质检数", "合格数", "合格率", "平均得分")


def queue(session: Session, staff: Staff) -> list[Inspection]:
    """The inspector's sampled tickets not scored yet, oldest period first."""
    dealt = session.scalars(select(Inspection).join(Inspection.sample)
                            .where(Inspection.inspector_id == staff.id)
                            .order_by(Sample.period_start, Inspection.id)).all()
    return [i for i in dealt if current(session, i.id) is None]


def own_results(session: Session, staff: Staff) -> list[Result]:
    """Every version of the agent's own results, newest first."""
    return list(session.scalars(select(Result).join(Result.inspection)
                                .where(Inspection.agent_id == staff.id)
                                .order_by(Result.scored_at.desc(), Result.version.desc())))


def visible(scope: Scope, result: Result) -> bool:
    """The agent's own, or any of the reader's unit and below for supervisors and inspectors."""
    inspection = result.inspection
    if inspection.agent_id == scope.staff.id:
        return True
    return scope.sees_quality and inspection.agent.department.region_id in scope.region_ids


def review_queue(session: Session, scope: Scope) -> list[Result]:
    """Appeals waiting for a review in the reader's unit and below (not the reader's own
    inspections: those another reviewer takes)."""
    if not reviews(scope.staff):
        return []
    rows = session.scalars(select(Result).join(Result.inspection)
                           .join(Staff, Staff.id == Inspection.agent_id).join(Staff.department)
                           .where(Result.status == ResultStatus.appealed,
                                  Department.region_id.in_(scope.region_ids))
                           .order_by(Result.appealed_at)).all()
    return [r for r in rows if scope.staff.id not in (r.scored_by_id, r.inspection.inspector_id)]


@dataclass(frozen=True)
class SummaryRow:
    name: str
    count: int
    passed: int
    average: float

    @property
    def rate(self) -> str:
        return f"{100 * self.passed / self.count:.1f}%"

    def cells(self) -> tuple:
        return (self.name, self.count, self.passed, self.rate, f"{self.average:.1f}")


def month_results(session: Session, scope: Scope, month: date) -> list[Result]:
    """The published results of samples of `month`, of agents in the reader's unit and below."""
    if not scope.sees_quality:
        return []
    first = month.replace(day=1)
    end = (first + timedelta(days=32)).replace(day=1)
    return list(session.scalars(
        select(Result).join(Result.inspection).join(Inspection.sample)
        .join(Staff, Staff.id == Inspection.agent_id).join(Staff.department)
        .where(Result.status == ResultStatus.published, Sample.period_start >= first,
               Sample.period_start < end, Department.region_id.in_(scope.region_ids))
        .options(joinedload(Result.inspection).joinedload(Inspection.agent))))


def _group(result: Result, by: str) -> str:
    agent = result.inspection.agent
    if by == "agent":
        return f"{agent.name}（{agent.code}）"
    if by == "team":
        return f"{agent.supervisor.name}班组" if agent.supervisor else "未分班组"
    return agent.department.region.name


def summary(session: Session, scope: Scope, month: date, by: str) -> list[SummaryRow]:
    if by not in GROUPINGS:
        raise LookupError(by)
    groups: dict[str, list[Result]] = {}
    for result in month_results(session, scope, month):
        groups.setdefault(_group(result, by), []).append(result)
    return [SummaryRow(name, len(rows), sum(r.passed for r in rows),
                       round(sum(r.score for r in rows) / len(rows), 1))
            for name, rows in sorted(groups.items())]


def headers(by: str) -> list[str]:
    return [h.format(by=GROUPINGS[by]) for h in SUMMARY_HEADERS]


def summary_workbook(rows: list[SummaryRow], month: date, by: str) -> bytes:
    return table_workbook(f"{month:%Y-%m}质检结果", headers(by), [r.cells() for r in rows])
