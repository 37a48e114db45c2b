"""The outage register's schedule: planned outages told ahead to their customers."""

import pendulum
from prefect import flow, get_run_logger, task

from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.outages.notices import send_notices


@task
def queue_outage_notices() -> dict[str, int]:
    with session_scope() as session:
        return send_notices(session, now=pendulum.now("UTC"), timezone=get_settings().timezone)


@flow(name="outage-notices")
def outage_notices() -> dict[str, int]:
    sent = queue_outage_notices()
    get_run_logger().info("outage notices queued: %s", sent)
    return sent
