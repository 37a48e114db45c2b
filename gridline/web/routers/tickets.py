"""A department's inbox and a ticket's page."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse

from gridline.web.deps import Db, Me, Site
from models.core.enums import StepStatus, TicketType
from tasks.messaging.queries import messages_of
from tasks.tickets import queries

router = APIRouter()


@router.get("/")
def home():
    return RedirectResponse("/inbox", status_code=303)


@router.get("/inbox")
def inbox(request: Request, session: Db, me: Me, portal: Site, type: str = "",
          status: str = "open", page_no: Annotated[int, Query(alias="page", ge=1)] = 1):
    ticket_type = TicketType(type) if type in TicketType.__members__ else None
    step_status = StepStatus(status) if status in StepStatus.__members__ else StepStatus.open
    size = portal.settings.portal.page_size
    rows, total = queries.inbox(session, me.staff.department_id, status=step_status,
                                ticket_type=ticket_type, offset=(page_no - 1) * size, limit=size)
    return portal.page(request, "inbox.html", me, rows=rows, total=total, page_no=page_no,
                       pages=max(1, -(-total // size)), type=ticket_type, status=step_status,
                       types=list(TicketType), statuses=list(StepStatus))


@router.get("/tickets/{number}")
def ticket_page(request: Request, session: Db, me: Me, portal: Site, number: str):
    ticket = queries.ticket_page(session, me, number)
    if ticket is None:
        raise HTTPException(404)
    config = portal.settings
    prefect_ui = config.portal.prefect_ui_url or f"http://127.0.0.1:{config.prefect_port}"
    run_url = f"{prefect_ui}/runs/flow-run/{ticket.flow_run_id}" if ticket.flow_run_id else None
    return portal.page(request, "ticket.html", me, ticket=ticket, run_url=run_url,
                       messages=messages_of(session, ticket.id))
