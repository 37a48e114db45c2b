"""The satisfaction pages' reads, within the reader's scope: the rate by month, unit and type
(one cell maker for the page and the Excel export), and the surveys themselves."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import pendulum
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from models.core.enums import TicketType
from models.core.formatting import local_time, mask_phone
from models.org.organisation import Region
from models.surveys.answers import SATISFIED, Answer, SurveyStatus, satisfaction_rate
from models.surveys.tables import Survey
from models.tickets.ticket import Ticket
from tasks.org.scope import Scope, region_subtree

SUMMARY_HEADERS = ("月份", "单位", "类型", "调查数", "已回复", "满意", "基本满意", "不满意",
                   "无应答", "满意率")
SUMMARY_WIDTHS = (10, 18, 10, 8, 8, 8, 10, 8, 8, 10)
LIST_HEADERS = ("工单号", "类型", "单位", "电话", "抽样时间", "状态", "回复", "回复时间", "跟进工单")


@dataclass(frozen=True)
class SurveyQuery:
    month: date  # its first day, local time
    unit: str = ""  # a region code within the reader's scope; "": all of it
    type: TicketType | None = None


def _selected(session: Session, me: Scope, wanted: SurveyQuery, timezone: str) -> Select:
    start = pendulum.datetime(wanted.month.year, wanted.month.month, 1, tz=timezone)
    query = (select(Survey).join(Ticket, Survey.ticket_id == Ticket.id)
             .where(me.sees_ticket(), Survey.status != SurveyStatus.skipped,
                    Survey.created_at >= start, Survey.created_at < start.add(months=1)))
    if wanted.type is not None:
        query = query.where(Survey.ticket_type == wanted.type)
    if wanted.unit:
        region_id = session.scalar(select(Region.id).where(Region.code == wanted.unit))
        query = query.where(Survey.region_id.in_(
            region_subtree(session, region_id) if region_id else []))
    return query


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _cells(month: str, unit: str, kind: str, surveys: list[Survey]) -> list:
    answers = [s.answer for s in surveys if s.status == SurveyStatus.answered]
    satisfied = sum(1 for a in answers if a in SATISFIED)
    no_answer = sum(1 for s in surveys if s.status == SurveyStatus.no_answer)
    return [month, unit, kind, len(surveys), len(answers), answers.count(Answer.satisfied),
            answers.count(Answer.fairly), answers.count(Answer.unsatisfied), no_answer,
            _percent(satisfaction_rate(satisfied, len(answers)))]


def summary(session: Session, me: Scope, wanted: SurveyQuery, timezone: str) -> list[list]:
    """One row per unit and type of the month, then the month's total: the page's rows and the
    export's, cell for cell."""
    groups: dict[tuple[str, str], list[Survey]] = defaultdict(list)
    everything = list(session.scalars(_selected(session, me, wanted, timezone)))
    for survey in everything:
        groups[(survey.region.name, survey.ticket_type.label)].append(survey)
    month = wanted.month.strftime("%Y-%m")
    rows = [_cells(month, unit, kind, found) for (unit, kind), found in sorted(groups.items())]
    return rows + [_cells(month, "合计", "全部", everything)]


def survey_page(session: Session, me: Scope, wanted: SurveyQuery, timezone: str, *,
                offset: int, limit: int) -> tuple[int, list[list[str]]]:
    """(how many, the page's rows) of the month's surveys, newest first."""
    query = _selected(session, me, wanted, timezone)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    found = session.scalars(query.order_by(Survey.created_at.desc(), Survey.id.desc())
                            .offset(offset).limit(limit))
    return total, [[s.ticket.number, s.ticket_type.label, s.region.name, mask_phone(s.phone),
                    local_time(s.created_at, timezone), s.status.label,
                    s.answer.label if s.answer else "", local_time(s.answered_at, timezone),
                    s.follow_up.number if s.follow_up else ""] for s in found]
