"""The outage register's schedule: planned outages told ahead to their customers, and the customers
told kept up to date when an outage moves or is cancelled."""

import pendulum
from prefect import flow, get_run_logger, task

from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.outages.notices import notice_pass


@task
def queue_outage_notices() -> dict[str, dict[str, int]]:
    with session_scope() as session:
        done = notice_pass(session, now=pendulum.now("UTC"), timezone=get_settings().timezone)
    return {"notices": done.notices, "changes": done.changes,
            "cancellations": done.cancellations}


@flow(name="outage-notices")
def outage_notices() -> dict[str, dict[str, int]]:
    queued = queue_outage_notices()
    get_run_logger().info("outage notices queued: %s", queued)
    return queued
