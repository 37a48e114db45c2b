"""Service quality on the schedule: each night, every plan's last whole period is drawn (once:
a drawn period is found again) and dealt to the inspectors' queues; each morning, the deciders of
an indicator appeal past its deadline are reminded. A lapsed appeal window is the engine's
`case-lapses` (flows/lifecycles/cases/quality_result.yaml)."""

from datetime import date

import pendulum
from prefect import flow, get_run_logger

from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.quality.files import plans
from tasks.quality.indicator_appeals import chase_overdue
from tasks.quality.sampling import draw_due


@flow(name="quality-draw")
def quality_draw(today: date | None = None) -> dict[str, int]:
    """`today` (default: today in the centre): the periods before it are the ones drawn."""
    settings = get_settings()
    now = pendulum.now("UTC")
    with session_scope() as session:
        drawn = draw_due(session, plans(), today or now.in_timezone(settings.timezone).date(),
                         now=now, timezone=settings.timezone)
    logger = get_run_logger()
    for key, found in drawn.items():
        logger.info("plan %s, period from %s: %d inspections%s", key, found.sample.period_start,
                    found.inspections, "" if found.new else " (drawn before)")
    return {key: found.inspections for key, found in drawn.items()}


@flow(name="indicator-appeal-chase")
def indicator_appeal_chase() -> int:
    """Remind the departments of their overdue indicator appeals (once a day each)."""
    settings = get_settings()
    with session_scope() as session:
        queued = chase_overdue(session, now=pendulum.now("UTC"), timezone=settings.timezone)
    get_run_logger().info("overdue indicator appeals: %d reminders queued", queued)
    return queued
