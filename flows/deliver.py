"""Outbox delivery as a scheduled Prefect flow (prefect.yaml: every minute).

Each message's own retries, backoff and dead letter live in the outbox rows, so they survive a
crashed worker; the Prefect task's retries cover the round itself (say, the database restarting).
"""

import pendulum
from prefect import flow, get_run_logger, task
from prefect.tasks import exponential_backoff

from tasks.core.settings import get_settings
from tasks.messaging.delivery import deliver_due
from tasks.messaging.gateways import gateways_for


@task(retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=5))
def deliver_round(limit: int) -> dict[str, int]:
    settings = get_settings()
    counts = deliver_due(gateways=gateways_for(settings.sms, settings.smtp),
                         policy=settings.outbox, timezone=settings.timezone,
                         clock=lambda: pendulum.now("UTC"), limit=limit)
    return dict(counts)


@flow(name="deliver-outbox", log_prints=True)
def deliver_outbox(limit: int = 500) -> dict[str, int]:
    counts = deliver_round(limit)
    get_run_logger().info("outbox delivery: %s", counts or "nothing due")
    return counts
