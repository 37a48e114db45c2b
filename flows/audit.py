"""The deadline audit (seed 000), every five minutes: check the clock, chase what is about to expire
or overdue, and keep the day's statistics workbooks."""

import pendulum
from prefect import flow, get_run_logger, task

from tasks.audit.chase import audit_due, check_clock
from tasks.audit.workbooks import write_day_workbooks
from tasks.core.db import session_scope
from tasks.core.settings import get_settings


@task
def check_the_clock() -> str:
    settings = get_settings()
    with session_scope() as session:
        check = check_clock(session, machine_now=pendulum.now("UTC"), policy=settings.audit,
                            timezone=settings.timezone)
    if not check.trusted_machine:
        get_run_logger().warning("clock skew %.0fs against the database: auditing by its time",
                                 check.skew_seconds)
    return check.audit_time.isoformat()


@task(retries=2, retry_delay_seconds=10)
def chase_due_clocks(audit_time: str) -> dict[str, int]:
    settings = get_settings()
    return dict(audit_due(now=pendulum.parse(audit_time), policy=settings.audit,
                          timezone=settings.timezone))


@task(retries=2, retry_delay_seconds=10)
def write_statistics(audit_time: str) -> dict[str, str]:
    settings = get_settings()
    day = pendulum.parse(audit_time).in_timezone(settings.timezone).date()
    with session_scope() as session:
        paths = write_day_workbooks(session, day=day, folder=settings.audit_dir,
                                    timezone=settings.timezone)
    return {stage: str(path) for stage, path in paths.items()}


@flow(name="deadline-audit")
def deadline_audit(now: str | None = None) -> dict:
    """`now` (ISO 8601) replays an audit at a given time; by default the clock is checked first."""
    audit_time = now or check_the_clock()
    counts = chase_due_clocks(audit_time)
    workbooks = write_statistics(audit_time)
    get_run_logger().info("audit at %s: %s; workbooks %s", audit_time, counts, workbooks)
    return {"audit_time": audit_time, **counts, "workbooks": workbooks}
