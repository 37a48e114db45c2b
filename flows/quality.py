"""Service quality on the schedule: each night, every plan's last whole period is drawn (once:
a drawn period is found again) and dealt to the inspectors' queues; every quarter of an hour,
pre-published results whose appeal window has lapsed are published as they stand (once)."""

from datetime import date

import pendulum
from prefect import flow, get_run_logger

from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.quality.files import plans
from tasks.quality.results import publish_lapsed
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


@flow(name="quality-publish-lapsed")
def quality_publish_lapsed() -> int:
    with session_scope() as session:
        count = publish_lapsed(session, now=pendulum.now("UTC"))
    get_run_logger().info("published %d results whose appeal window lapsed", count)
    return count
