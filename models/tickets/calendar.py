"""China's working-time calendar: pure functions, the current time is always an argument.

Working days follow the official calendar (chinese-calendar: statutory holidays off, adjusted
weekend working days on), then the centre's own override table. A year the library does not cover
falls back to Monday-Friday plus overrides, and is remembered in `fallback_years` so callers can warn.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import chinese_calendar
import pendulum
from sqlalchemy import Boolean, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from models.core.base import Base


class CalendarOverride(Base):
    """A centre's own day off or on, or a day of an official schedule loaded for a future year."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(20), default="local")  # local | official


def _official_is_workday(day: date) -> bool | None:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # the library has no data for that year yet
        return None


@dataclass
class WorkCalendar:
    timezone: str = "Asia/Shanghai"
    overrides: Mapping[date, bool] = field(default_factory=dict)
    # Years whose official schedule an admin loaded into the override table: no fallback warning.
    loaded_years: frozenset[int] = frozenset()
    day_start: time = time(0, 0)
    day_end: time | None = None  # None: midnight at the end of the day
    fallback_years: set[int] = field(default_factory=set)

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year not in self.loaded_years:
            official = _official_is_workday(day)
            if official is not None:
                return official
            self.fallback_years.add(day.year)
        return day.weekday() < 5

    def _window(self, day: date) -> tuple[pendulum.DateTime, pendulum.DateTime]:
        tz = pendulum.timezone(self.timezone)
        start = pendulum.instance(datetime.combine(day, self.day_start), tz=tz)
        if self.day_end is None:
            end = pendulum.instance(datetime.combine(day + timedelta(days=1), time(0)), tz=tz)
        else:
            end = pendulum.instance(datetime.combine(day, self.day_end), tz=tz)
        return start, end

    def working_day_length(self) -> timedelta:
        start, end = self._window(date(2001, 1, 1))  # a date with no DST change anywhere relevant
        return end - start

    def add_working_days(self, start: datetime, days: int) -> pendulum.DateTime:
        """N working days = N whole working days of working time, counted from `start`.

        Tuesday 15:00 + 4 working days is the next Monday 15:00; a start on a day off counts from
        the beginning of the next working day.
        """
        return self.add_working_time(start, self.working_day_length() * days)

    def add_working_time(self, start: datetime, span: timedelta) -> pendulum.DateTime:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        cursor = pendulum.instance(start).in_timezone(self.timezone)
        remaining = span
        day = cursor.date()
        for _ in range(3660):  # ten years of days: far beyond any deadline rule
            if self.is_working_day(day):
                window_start, window_end = self._window(day)
                begin = max(cursor, window_start)
                if begin < window_end:
                    available = window_end - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day += timedelta(days=1)
            cursor = self._window(day)[0]
        raise ValueError("span too long for the working calendar")


def add_natural(start: datetime, span: timedelta, timezone: str) -> pendulum.DateTime:
    """Natural spans (fault repair) run round the clock."""
    return pendulum.instance(start).in_timezone(timezone) + span
