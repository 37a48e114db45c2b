"""Opening a failed result's 质检结果申诉 case (flows/lifecycles/cases/quality_result.yaml), apart
from its adapter (tasks/quality/result_case.py), which the case store itself imports."""

from datetime import datetime

from sqlalchemy.orm import Session

from models.cases.case import Case
from models.org.organisation import Staff
from models.quality.tables import Inspection
from tasks.cases.pages import open_case_on_page

KIND = "quality_result"


def title_of(inspection: Inspection) -> str:
    return f"质检结果申诉（{inspection.agent.name}，工单{inspection.ticket.number}）"


def open_result_case(session: Session, inspection: Inspection, *, by: Staff,
                     now: datetime) -> Case:
    """The case row of a failed result, its run not started: the demo's runs start after the
    seed (gridline/cli/demo.py); flows.quality_results.score starts its own."""
    return open_case_on_page(session, KIND, inspection.id,
                             inspection.agent.department.region_id, title_of(inspection),
                             opened_by=by, now=now)
