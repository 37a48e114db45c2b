"""The three scheduled reports (日报, 报表, 指标报告) as data (models/data/reports.yaml), and the
period a run on a given day covers. Pure: no clock read, no database."""

from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from models.core.enums import StaffRole
from models.core.errors import InputError
from models.core.yaml_files import read_model_file

DEFAULT_FILE = Path(__file__).parents[1] / "data" / "reports.yaml"


class Span(StrEnum):
    day = "day"
    week = "week"
    month = "month"


class ReportSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z_]+$")
    label: str
    period: Span
    subscribers: tuple[StaffRole, ...]
    indicators: tuple[str, ...]
    entered: dict[str, str] = {}  # figures a unit fills in itself when it submits: key -> label


class ReportSet(BaseModel):
    reports: list[ReportSpec]

    def get(self, key: str) -> ReportSpec:
        for report in self.reports:
            if report.key == key:
                return report
        raise InputError("report", f"没有这个报表：{key}", f"no report {key!r}")


def covered(span: Span, run_day: date) -> tuple[date, date]:
    """The whole day, week (Monday to Sunday) or month before the run's day."""
    if span == Span.day:
        day = run_day - timedelta(days=1)
        return day, day
    if span == Span.week:
        monday = run_day - timedelta(days=run_day.weekday() + 7)
        return monday, monday + timedelta(days=6)
    last = run_day.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def period_end(span: Span, first: date) -> date:
    """The last day of the period that starts on `first`."""
    if span == Span.day:
        return first
    if span == Span.week:
        return first + timedelta(days=6)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def load_reports(known: set[str], path: Path | None = None) -> ReportSet:
    """The report file, checked; every indicator it names must be in `known`."""
    path = path or DEFAULT_FILE
    found = read_model_file(path, ReportSet, "报表配置", "reports")
    for report in found.reports:
        for key in report.indicators:
            if key not in known:
                raise InputError(f"{path.name}: {report.key}", f"没有这个指标：{key}",
                                 f"report {report.key!r} names no indicator {key!r}")
    return found
