"""Workforce planning on Prefect (prefect.yaml): the nightly forecast, staffing plan and staffing
alerts, and the handover at each shift change."""

from datetime import timedelta

import pendulum
from prefect import flow, get_run_logger, task

from flows.lifecycle import lifecycles
from models.tickets.lifecycle import step_keys
from models.workforce.config import WorkforceConfig, load_workforce_config
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.workforce.alerts import staffing_alerts
from tasks.workforce.handover import hand_over, latest_change
from tasks.workforce.planning import make_plan, store_plan


def workforce_config() -> WorkforceConfig:
    """The workforce settings, the steps they name checked against the lifecycles."""
    return load_workforce_config(get_settings().workforce_file,
                                 steps=lambda: step_keys(lifecycles()))


def _now(at: str | None) -> pendulum.DateTime:
    """The run's current time: a parameter replays a past run; a scheduled run uses the clock."""
    return pendulum.parse(at).in_timezone("UTC") if at else pendulum.now("UTC")


@task(retries=2, retry_delay_seconds=30)
def plan_staffing(days: int, now: pendulum.DateTime) -> int:
    """Forecast from tomorrow on and store the agents needed per interval."""
    settings = get_settings()
    config = workforce_config()
    start = now.in_timezone(settings.timezone).date() + timedelta(days=1)
    with session_scope() as session:
        plans = make_plan(session, now=now, config=config, timezone=settings.timezone,
                          start=start, days=days)
        for plan in plans:
            if plan.backtest:
                get_run_logger().info("%s: back-test MAPE %.1f%%, seasonal naive %.1f%%",
                                      plan.group, 100 * plan.backtest.mape,
                                      100 * plan.backtest.naive_mape)
        return store_plan(session, plans, made_at=now)


@task(retries=2, retry_delay_seconds=30)
def alert_understaffing(hours: int, now: pendulum.DateTime) -> int:
    """Alert where the roster falls short of the plan in the coming hours."""
    settings = get_settings()
    with session_scope() as session:
        return len(staffing_alerts(session, start=now, end=now + timedelta(hours=hours),
                                   config=workforce_config(),
                                   now=now, timezone=settings.timezone))


@flow(name="workforce-nightly", log_prints=True)
def workforce_nightly(days: int = 7, alert_hours: int = 48, at: str | None = None) -> dict[str, int]:
    now = _now(at)
    intervals = plan_staffing(days, now)
    windows = alert_understaffing(alert_hours, now)
    return {"intervals_planned": intervals, "understaffed_windows": windows}


@task(retries=2, retry_delay_seconds=10)
def pass_open_items(now: pendulum.DateTime) -> dict:
    settings = get_settings()
    config = workforce_config()
    change = latest_change(now, config.handover_at, settings.timezone)
    with session_scope() as session:
        result = hand_over(session, change_at=change, config=config, timezone=settings.timezone,
                           now=now)
        return {"change_at": change.isoformat(), "items": len(result.items),
                "receivers": len(result.receivers)}


@flow(name="shift-handover", log_prints=True)
def shift_handover(at: str | None = None) -> dict:
    result = pass_open_items(_now(at))
    get_run_logger().info("handover at %(change_at)s: %(items)s items to %(receivers)s agents",
                          result)
    return result
