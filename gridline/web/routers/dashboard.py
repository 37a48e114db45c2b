"""运营统计: one indicator's figures for a unit and period, drilled province -> city -> county ->
department -> tickets with a breadcrumb, charted in the browser (Chart.js, served from /static),
and the same table as an Excel download. Every figure goes through tasks.statistics.figures."""

import tempfile
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pendulum
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse
from openpyxl import Workbook
from starlette.background import BackgroundTask

from gridline.web.deps import Db, Me, Site
from models.core.errors import InputError
from models.statistics.indicators import Indicator
from tasks.statistics.aggregations import indicators
from tasks.statistics.figures import DIMENSION_LABELS, Statistics, Unit, local_period, shown
from tasks.statistics.workbook import add_sheet, save

router = APIRouter()


class View:
    """The query string of a dashboard page, checked: one clear 404/422, never a stack trace."""

    def __init__(self, request: Request, session, me, portal, indicator: str, unit: str,
                 start: str, end: str, dim: str):
        self.stats = Statistics(session, me.staff)
        self.tz = portal.settings.timezone
        today = pendulum.instance(portal.clock()).in_timezone(self.tz).date()
        try:
            self.indicator: Indicator = indicators().get(indicator or "ticket_volume")
            self.first = date.fromisoformat(start) if start else today
            self.last = date.fromisoformat(end) if end else self.first
            self.unit = Unit.parse(unit) if unit else self.stats.home
            self.period = local_period(self.first, self.last, self.tz, portal.clock())
        except (InputError, ValueError) as exc:
            raise HTTPException(422, getattr(exc, "zh", "日期格式应为 年-月-日")) from None
        if not self.stats.sees(self.indicator):
            raise HTTPException(404)
        self.dim, self.today = dim, today

    def link(self, path: str = "/dashboard", **changes) -> str:
        query = {"indicator": self.indicator.key, "unit": self.unit.code,
                 "start": self.first.isoformat(), "end": self.last.isoformat(), "dim": self.dim}
        query.update({k: v for k, v in changes.items()})
        return f"{path}?{urlencode({k: v for k, v in query.items() if v})}"

    def presets(self) -> list[tuple[str, str]]:
        week = self.today - timedelta(days=self.today.weekday())
        month = self.today.replace(day=1)
        return [("今日", self.link(start=self.today.isoformat(), end=self.today.isoformat())),
                ("昨日", self.link(start=(self.today - timedelta(days=1)).isoformat(),
                                   end=(self.today - timedelta(days=1)).isoformat())),
                ("本周", self.link(start=week.isoformat(), end=self.today.isoformat())),
                ("本月", self.link(start=month.isoformat(), end=self.today.isoformat()))]


def _figures(view: View):
    try:
        return view.stats.figures(view.indicator, view.period, view.unit, view.dim or None)
    except LookupError:
        raise HTTPException(404) from None


@router.get("/dashboard")
def dashboard(request: Request, session: Db, me: Me, portal: Site, indicator: str = "",
              unit: str = "", start: str = "", end: str = "", dim: str = ""):
    view = View(request, session, me, portal, indicator, unit, start, end, dim)
    figures = _figures(view)
    listed = [i for i in indicators().indicators if view.stats.sees(i)]
    chart = {"labels": [r.label for r in figures.rows],
             "values": [r.value for r in figures.rows], "label": view.indicator.label,
             "ratio": view.indicator.kind == "ratio"}
    # Day by day, for a period of days: the same figure as the total, per day.
    days = view.stats.trend(view.indicator, view.period, view.unit) if view.last > view.first else []
    trend = {"labels": [d.strftime("%m-%d") for d, _ in days], "values": [v for _, v in days],
             "label": view.indicator.label, "ratio": chart["ratio"]}
    return portal.page(request, "dashboard.html", me, view=view, figures=figures, listed=listed,
                       shown=shown, chart=chart, trend=trend, dimension_labels=DIMENSION_LABELS)


@router.get("/dashboard/tickets")
def ticket_list(request: Request, session: Db, me: Me, portal: Site, indicator: str = "",
                unit: str = "", start: str = "", end: str = "", dim: str = ""):
    view = View(request, session, me, portal, indicator, unit, start, end, dim)
    try:
        rows = view.stats.tickets(view.indicator, view.period, view.unit)
    except LookupError:
        raise HTTPException(404) from None
    return portal.page(request, "dashboard_tickets.html", me, view=view, rows=rows,
                       breadcrumb=view.stats.breadcrumb(view.unit))


@router.get("/dashboard/export.xlsx")
def export(request: Request, session: Db, me: Me, portal: Site, indicator: str = "",
           unit: str = "", start: str = "", end: str = "", dim: str = ""):
    view = View(request, session, me, portal, indicator, unit, start, end, dim)
    figures = _figures(view)
    book = Workbook()
    place = " / ".join(name for name, _ in figures.breadcrumb)
    add_sheet(book, view.indicator.label, f"{place} {view.first}至{view.last}", figures)
    folder = Path(tempfile.mkdtemp(prefix="gridline-export-"))
    path = save(book, folder / "figures.xlsx")
    name = f"{view.indicator.label}-{view.first}-{view.last}.xlsx"
    return FileResponse(path, filename=name, background=BackgroundTask(_remove, folder))


def _remove(folder: Path) -> None:
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()
