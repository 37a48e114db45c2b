"""The working-time calendar: China's official days, 调休, overrides, fallback years, office hours."""

from datetime import date, time, timedelta

import pendulum
import pytest

from models.tickets.calendar import WorkCalendar, add_natural


def at(text: str) -> pendulum.DateTime:
    return pendulum.parse(text)


def test_four_working_days_from_tuesday_afternoon_is_next_monday_afternoon():
    due = WorkCalendar().add_working_days(at("2026-11-24T15:00:00+08:00"), 4)
    assert due.isoformat() == "2026-11-30T15:00:00+08:00"


def test_spring_festival_is_skipped_and_adjusted_saturday_counts():
    # Fri 13 Feb 2026; Sat 14 Feb is a 调休 working day; 15-23 Feb are off.
    due = WorkCalendar().add_working_days(at("2026-02-13T10:00:00+08:00"), 4)
    assert due.isoformat() == "2026-02-26T10:00:00+08:00"


def test_national_day_week_is_skipped():
    due = WorkCalendar().add_working_days(at("2026-09-30T15:00:00+08:00"), 4)
    assert due.isoformat() == "2026-10-12T15:00:00+08:00"


def test_start_on_a_holiday_counts_from_midnight_of_next_working_day():
    due = WorkCalendar().add_working_days(at("2026-10-03T11:00:00+08:00"), 4)
    assert due.isoformat() == "2026-10-13T00:00:00+08:00"


def test_adjusted_sunday_is_a_working_day():
    calendar = WorkCalendar()
    assert calendar.is_working_day(date(2026, 1, 4))  # Sunday, 调休
    due = calendar.add_working_days(at("2026-01-03T12:00:00+08:00"), 1)
    assert due.isoformat() == "2026-01-05T00:00:00+08:00"


def test_input_in_utc_is_counted_in_the_centre_timezone():
    # 07:00Z on Tuesday is 15:00 in Shanghai.
    due = WorkCalendar().add_working_days(at("2026-11-24T07:00:00Z"), 4)
    assert due.isoformat() == "2026-11-30T15:00:00+08:00"


def test_year_without_official_data_falls_back_to_weekdays_and_says_so():
    calendar = WorkCalendar()
    due = calendar.add_working_days(at("2026-12-30T09:00:00+08:00"), 4)
    assert due.isoformat() == "2027-01-05T09:00:00+08:00"  # 1 Jan 2027 counted as a Friday
    assert calendar.fallback_years == {2027}


def test_loaded_official_schedule_replaces_the_fallback():
    calendar = WorkCalendar(overrides={date(2027, 1, 1): False}, loaded_years=frozenset({2027}))
    due = calendar.add_working_days(at("2026-12-30T09:00:00+08:00"), 4)
    assert due.isoformat() == "2027-01-06T09:00:00+08:00"
    assert calendar.fallback_years == set()


def test_local_override_day_off_moves_the_deadline():
    calendar = WorkCalendar(overrides={date(2026, 11, 27): False})  # a centre's own day off
    due = calendar.add_working_days(at("2026-11-24T15:00:00+08:00"), 4)
    assert due.isoformat() == "2026-12-01T15:00:00+08:00"


def test_office_hours_count_only_the_working_window():
    calendar = WorkCalendar(day_start=time(9), day_end=time(17))
    assert calendar.add_working_days(at("2026-11-24T15:00:00+08:00"), 4).isoformat() == \
        "2026-11-30T15:00:00+08:00"
    # After hours on Tuesday: counting starts Wednesday 09:00, four 8-hour days end Monday 17:00.
    assert calendar.add_working_days(at("2026-11-24T18:00:00+08:00"), 4).isoformat() == \
        "2026-11-30T17:00:00+08:00"


def test_natural_span_runs_through_a_holiday_night():
    due = add_natural(at("2026-10-01T23:30:00+08:00"), timedelta(minutes=90), "Asia/Shanghai")
    assert due.isoformat() == "2026-10-02T01:00:00+08:00"


def test_naive_start_is_refused():
    from datetime import datetime

    with pytest.raises(ValueError):
        WorkCalendar().add_working_days(datetime(2026, 11, 24, 15), 1)
