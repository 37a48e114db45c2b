"""Indicator figures through the API, under the dashboard's scope rule: a key sees what a centre
member of its unit sees (its unit's subtree; the centre's calls only with a key of the top unit).
The same `Statistics.figures` the dashboard, its Excel download and the mailed reports read."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from gridline.api.deps import Db, Site, StatisticsRead
from gridline.api.problems import Problem
from models.core.errors import InputError
from tasks.statistics.aggregations import indicators
from tasks.statistics.figures import Row, Statistics, Unit, local_period

router = APIRouter(prefix="/v1/statistics", tags=["statistics"])
DAY = Query(description="YYYY-MM-DD, a local day of the centre", pattern=r"^\d{4}-\d{2}-\d{2}$")


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(field, "日期格式应为 年-月-日", f"{field} is not a date") from None


def _row(row: Row) -> dict:
    return {"label": row.label, "unit": row.unit.code if row.unit else None,
            "num": row.num, "den": row.den, "value": row.value}


@router.get("/indicators", summary="指标列表 The indicators this key may read")
def listed(session: Db, scope: StatisticsRead):
    stats = Statistics(session, scope.staff)
    return {"indicators": [{"key": i.key, "label": i.label, "kind": i.kind.value,
                            "subject": i.subject.value, "dimensions": list(i.dimensions)}
                           for i in indicators().indicators if stats.sees(i)],
            "home": stats.home.code}


@router.get("/{indicator}", summary="指标数值 One indicator's figures by unit and period")
def figures(session: Db, site: Site, scope: StatisticsRead, indicator: str,
            start: Annotated[str, DAY], end: Annotated[str | None, DAY] = None,
            unit: Annotated[str | None, Query(max_length=32, description="r<id> or r<id>-d<id>")] = None,
            dim: Annotated[str | None, Query(max_length=20)] = None):
    stats = Statistics(session, scope.staff)
    first = _day(start, "start")
    last = _day(end, "end") if end else first
    period = local_period(first, last, site.settings.timezone, site.clock())
    chosen = Unit.parse(unit) if unit else None
    try:
        found = stats.figures(indicators().get(indicator), period, chosen, dim)
    except (LookupError, InputError):  # unknown, or not this key's: the same answer
        raise Problem(404, "没有这个指标或单位，或不在该密钥的单位范围内",
                      "no such indicator or unit in this key's units") from None
    return {"indicator": found.indicator.key, "label": found.indicator.label,
            "kind": found.indicator.kind.value, "start": first.isoformat(),
            "end": last.isoformat(), "unit": found.unit.code,
            "breadcrumb": [{"label": label, "unit": u.code} for label, u in found.breadcrumb],
            "total": _row(found.total), "rows": [_row(r) for r in found.rows],
            "dimension": found.dimension, "by_dimension": [_row(r) for r in found.by_dimension]}
