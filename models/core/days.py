"""The centre's local days: where one begins as an instant, and which day an instant falls on."""

from datetime import date, datetime

import pendulum


def local_day_start(day: date, timezone: str) -> datetime:
    return pendulum.datetime(day.year, day.month, day.day, tz=timezone).in_timezone("UTC")


def local_date(instant: datetime, timezone: str) -> date:
    local = pendulum.instance(instant).in_timezone(timezone)
    return date(local.year, local.month, local.day)  # a plain date, as drivers take it
