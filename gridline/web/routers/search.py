"""工单查询: tickets found by number, phone, customer, unit, type, status, time received and overdue,
within the reader's scope, paged; and the same result as an Excel workbook, cell for cell what the
page shows (one function makes the cells of both)."""

from datetime import date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gridline.web.deps import Db, Me, Site
from gridline.web.render import Portal, signal
from models.core.enums import OPEN_STATUSES, TicketStatus, TicketType
from models.core.formatting import local_time, mask_phone
from tasks.core.spreadsheets import table_workbook
from tasks.org.scope import Scope
from tasks.tickets.queries import regions_in_scope
from tasks.tickets.search import TicketQuery, search_tickets

router = APIRouter()
HEADERS = ("工单号", "类型", "状态", "受理时间", "客户", "电话", "单位", "内容", "最近期限", "剩余时间")
WIDTHS = (17, 10, 10, 17, 12, 14, 16, 40, 17, 16)
CONTENT = 40  # characters of the content a row shows
EXPORT_LIMIT = 10_000  # rows of one export: a narrower search for more


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def read_query(params) -> TicketQuery:
    """The search form as given in the address; a value that cannot mean anything is ignored,
    as the inbox's filters are."""
    def text(name: str, length: int) -> str:
        return "".join(ch for ch in params.get(name, "") if ch.isprintable()).strip()[:length]

    ticket_type, status = params.get("type", ""), params.get("status", "")
    return TicketQuery(
        number=text("number", 32), phone="".join(ch for ch in text("phone", 20) if ch.isdigit()),
        customer=text("customer", 100), unit=text("unit", 32),
        type=TicketType(ticket_type) if ticket_type in TicketType.__members__ else None,
        status=TicketStatus(status) if status in TicketStatus.__members__ else None,
        received_from=_day(params.get("from", "")), received_to=_day(params.get("to", "")),
        overdue=params.get("overdue", "") == "1")


def cells(row, now: datetime, timezone: str, warning: timedelta) -> tuple[list[str], str]:
    """(the row's texts, its colour): the page's cells and the export's, the same."""
    content = row.content if len(row.content) <= CONTENT else row.content[:CONTENT] + "…"
    if row.status in OPEN_STATUSES:
        warn = timedelta(minutes=row.next_warn) if row.next_warn is not None else warning
        state = signal(row.next_due, now, warn)
    else:
        state = signal(None, now, warning, met_at=now)
    return [row.number, row.type.label, row.status.label, local_time(row.received_at, timezone),
            row.caller_name, mask_phone(row.caller_phone), row.unit, content,
            local_time(row.next_due, timezone) if row.status in OPEN_STATUSES else "",
            state.text], state.colour


def _found(session, me: Scope, portal: Portal, wanted: TicketQuery, offset: int, limit: int):
    return search_tickets(session, me, wanted, now=portal.clock(),
                          timezone=portal.settings.timezone, offset=offset, limit=limit)


@router.get("/search")
def search(request: Request, session: Db, me: Me, portal: Site):
    wanted = read_query(request.query_params)
    page_text = request.query_params.get("page", "1")
    page_no = int(page_text) if page_text.isdigit() and 0 < len(page_text) < 7 else 1
    page_no = max(1, page_no)
    size, now, config = portal.settings.portal.page_size, portal.clock(), portal.settings
    found = _found(session, me, portal, wanted, (page_no - 1) * size, size)
    warning = timedelta(hours=config.portal.expiry_warning_hours)
    rows = [cells(row, now, config.timezone, warning) for row in found.rows]
    query = request.url.query
    kept = "&".join(part for part in query.split("&") if not part.startswith("page="))
    return portal.page(request, "search.html", me, title="工单查询", rows=rows, total=found.total,
                       headers=HEADERS, page_no=page_no, pages=max(1, -(-found.total // size)),
                       kept=kept, params=request.query_params, types=list(TicketType),
                       statuses=list(TicketStatus), units=regions_in_scope(session, me))


@router.get("/search/export.xlsx")
def export(request: Request, session: Db, me: Me, portal: Site):
    """Every ticket the search finds (up to EXPORT_LIMIT), as the page lists them."""
    wanted, now, config = read_query(request.query_params), portal.clock(), portal.settings
    found = _found(session, me, portal, wanted, 0, EXPORT_LIMIT)
    warning = timedelta(hours=config.portal.expiry_warning_hours)
    body = table_workbook("工单查询", HEADERS,
                          (cells(row, now, config.timezone, warning)[0] for row in found.rows),
                          WIDTHS)
    stamp = local_time(now, config.timezone).replace("-", "").replace(" ", "-").replace(":", "")
    return Response(body, media_type="application/vnd.openxmlformats-officedocument."
                    "spreadsheetml.sheet", headers={
                        "Content-Disposition": f'attachment; filename="tickets-{stamp}.xlsx"'})
