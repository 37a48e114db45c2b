"""The daily rollup of the statistics (docs/statistics.md, Daily rollup): every ten minutes,
the closed days not rolled yet or made stale by a write since, each in a transaction of its own,
oldest first. The dashboard reads fresh days from it and the rest live, so a late run only slows it."""

import pendulum
from prefect import flow, get_run_logger

from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.statistics.rollup import days_to_roll, roll_day


@flow(name="statistics-rollup")
def statistics_rollup(limit: int = 400) -> dict:
    """`limit`: at most so many days a run (a first run on a long history takes several)."""
    settings, now = get_settings(), pendulum.now("UTC")
    with session_scope() as session:
        days = days_to_roll(session, now=now, timezone=settings.timezone)[:limit]
    rows = 0
    for day in days:
        with session_scope() as session:
            rows += roll_day(session, day, now=now, timezone=settings.timezone)
    get_run_logger().info("统计日汇总：%d 天，%d 行", len(days), rows)
    return {"days": [d.isoformat() for d in days], "rows": rows}
