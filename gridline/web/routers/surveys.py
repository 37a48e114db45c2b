"""满意度调查: the satisfaction rate by unit, type and month within the reader's scope, the month's
surveys, and the rate table as Excel, cell for cell what the page shows (tasks.surveys.figures
makes the cells of both)."""

from datetime import date

import pendulum
from fastapi import APIRouter, Request
from fastapi.responses import Response

from gridline.web.deps import Db, Me, Site
from gridline.web.render import Portal
from gridline.web.security import PageNo
from models.core.enums import TicketType
from tasks.core.spreadsheets import table_workbook
from tasks.surveys.figures import (
    LIST_HEADERS,
    SUMMARY_HEADERS,
    SUMMARY_WIDTHS,
    SurveyQuery,
    summary,
    survey_page,
)
from tasks.tickets.queries import regions_in_scope

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def read_query(params, portal: Portal) -> SurveyQuery:
    """The filters as given in the address; one that cannot mean anything is ignored."""
    month = None
    try:
        year, number = params.get("month", "").split("-")
        month = date(int(year), int(number), 1)
    except ValueError:
        pass
    if month is None:
        month = pendulum.instance(portal.clock()).in_timezone(portal.settings.timezone).date()
    kind = params.get("type", "")
    return SurveyQuery(month=month.replace(day=1),
                       unit="".join(ch for ch in params.get("unit", "") if ch.isalnum())[:32],
                       type=TicketType(kind) if kind in TicketType.__members__ else None)


@router.get("/surveys")
def surveys(request: Request, session: Db, me: Me, portal: Site, page_no: PageNo = 1):
    wanted, timezone = read_query(request.query_params, portal), portal.settings.timezone
    size = portal.settings.portal.page_size
    total, rows = survey_page(session, me, wanted, timezone, offset=(page_no - 1) * size,
                              limit=size)
    kept = "&".join(p for p in request.url.query.split("&") if p and not p.startswith("page="))
    return portal.page(request, "surveys/index.html", me, title="满意度调查", wanted=wanted,
                       headers=SUMMARY_HEADERS, figures=summary(session, me, wanted, timezone),
                       list_headers=LIST_HEADERS, rows=rows, total=total, page_no=page_no,
                       pages=max(1, -(-total // size)), kept=kept, types=list(TicketType),
                       units=regions_in_scope(session, me))


@router.get("/surveys/export.xlsx")
def export(request: Request, session: Db, me: Me, portal: Site):
    wanted = read_query(request.query_params, portal)
    month = wanted.month.strftime("%Y-%m")
    body = table_workbook("满意度", SUMMARY_HEADERS,
                          summary(session, me, wanted, portal.settings.timezone), SUMMARY_WIDTHS)
    return Response(body, media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="satisfaction-{month}.xlsx"'})
