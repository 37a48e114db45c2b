"""The demo's quality inspection: the monthly plan's last whole period drawn as the schedule
would, and the first two inspections scored (one pass, one fail pre-published), so the queues,
an agent's appeal and the month's table all have something to show. The fail opens its
质检结果申诉 case; its run starts after the seed, with Prefect there (gridline/cli/demo.py)."""

from datetime import datetime

import pendulum
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.org.organisation import Staff
from models.quality.lifecycle import ResultStatus
from models.quality.tables import Inspection
from models.tickets.calendar import WorkCalendar
from tasks.quality.case_opening import open_result_case
from tasks.quality.files import plans
from tasks.quality.results import score_inspection
from tasks.quality.sampling import draw_due

SEED = 95598  # the demo's draw is the same every time


def demo_inspections(session: Session, now: datetime,
                     calendar: WorkCalendar, inspectors: list[Staff]) -> int:
    """How many inspections were dealt (none when no demo ticket closed last period)."""
    session.flush()
    today = pendulum.instance(now).in_timezone(calendar.timezone).date()
    drawn = draw_due(session, plans(), today, now=now, timezone=calendar.timezone, seed=SEED)
    dealt = session.scalars(select(Inspection).order_by(Inspection.id)).all()
    by_id = {s.id: s for s in inspectors}
    for inspection, passed in zip(dealt, (True, False), strict=False):
        answers = {"greeting": True, "accuracy": passed, "classification": True,
                   "follow_up": passed, "no_leak": True}
        inspector = by_id[inspection.inspector_id]
        result = score_inspection(session, inspector, inspection, answers,
                                  "" if passed else "地址记录不全，答复未解释电价政策", now=now)
        if result.status == ResultStatus.prepublished:
            open_result_case(session, inspection, by=inspector, now=now)
    return sum(found.inspections for found in drawn.values())
