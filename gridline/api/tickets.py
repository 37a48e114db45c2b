"""Tickets through the API: open one (idempotent with an Idempotency-Key), read one with its
clocks, steps and timeline, search them, and complete a step on behalf of its handler. Each goes
through the use case the portal and the CLI use."""

import json
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.intake import LifecycleNotStarted, open_ticket
from flows.steps import complete_step
from gridline.api.deps import Api, Db, Site, StepsWrite, TicketsRead, TicketsWrite
from gridline.api.problems import Problem
from gridline.api.views import step_titles, ticket_detail, ticket_summary
from gridline.cli.common import parse_instant
from gridline.web.security import RowId
from models.core.enums import StepStatus, TicketStatus, TicketType
from models.core.errors import InputError
from models.org.organisation import Staff
from models.tickets.intake import TicketIntake, normalise_phone
from models.tickets.ticket import Step, Ticket
from tasks.integrations import idempotency
from tasks.integrations.api_keys import KeyScope
from tasks.tickets import queries
from tasks.tickets.lifecycle_store import StepNotOpen
from tasks.tickets.search import TicketQuery, find_tickets
from tasks.tickets.store import find_region

router = APIRouter(prefix="/v1", tags=["tickets"])
CHANNELS = {"phone": "phone", "ivr": "phone", "wechat": "wechat", "app": "app", "web": "web"}
INTAKE_SCHEMA = {"content": {"application/json": {"schema": TicketIntake.model_json_schema()}}}


async def json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Problem(400, "请求体须为 UTF-8 JSON", "the body must be UTF-8 JSON",
                      field="body") from None


def visible(session: Session, scope: KeyScope, number: str) -> Ticket:
    ticket = queries.ticket_page(session, scope, number)
    if ticket is None:  # elsewhere or unknown: the same answer
        raise Problem(404, f"工单 {number} 不存在或不在该密钥的单位范围内",
                      f"no ticket {number} in this key's units", field="number")
    return ticket


def created(session: Session, scope: KeyScope, ticket: Ticket, started: bool) -> dict:
    return {"ticket": ticket_detail(visible(session, scope, ticket.number), step_titles()),
            "lifecycle_started": started}


@router.post("/tickets", status_code=201, openapi_extra={"requestBody": INTAKE_SCHEMA},
             summary="受理工单 Create a ticket")
async def create(request: Request, session: Db, site: Site, scope: TicketsWrite,
                 idempotency_key: Annotated[str | None, Header(max_length=200)] = None):
    body = await json_body(request)
    # The use case is blocking database work: off the event loop, as the portal's routes run.
    return await run_in_threadpool(_create, session, site, scope, body, idempotency_key)


def _create(session: Session, site: Api, scope: KeyScope, body: Any,
            idempotency_key: str | None) -> JSONResponse:
    if not isinstance(body, dict):
        raise InputError("body", "请求体须为 JSON 对象", "the body must be a JSON object")
    data = dict(body)
    if isinstance(data.get("channel"), str):
        channel = data["channel"].strip().lower()
        if channel not in CHANNELS:
            raise InputError("channel", f"取值无效，可选：{'、'.join(CHANNELS)}",
                             f"channel must be one of {', '.join(CHANNELS)}")
        data["channel"] = CHANNELS[channel]
    now, held = site.clock(), None
    if idempotency_key is not None:
        key, digest = idempotency.check_key(idempotency_key), idempotency.request_hash(body)
        earlier = idempotency.previous(session, scope.key.id, key, digest)
        held = None if earlier else idempotency.reserve(session, scope.key.id, key, digest, now)
        if held is None:  # sent before, or by a request a moment ago
            return replay(session, scope, earlier or idempotency.previous(
                session, scope.key.id, key, digest))

    def bind(ticket: Ticket) -> None:
        if held is not None:
            held.ticket_id = ticket.id

    try:
        ticket = open_ticket(session, data, now=now, scope=scope, settings=site.settings,
                             on_created=bind).ticket
        started = True
    except LifecycleNotStarted as exc:
        session.rollback()
        ticket, started = session.scalar(select(Ticket).where(Ticket.number == exc.number)), False
    except InputError:
        session.rollback()  # nothing written, the key released: a corrected retry may use it
        raise
    answer = created(session, scope, ticket, started and bool(ticket.flow_run_id))
    if held is not None:
        idempotency.remember(session, held, 201, answer)
    return JSONResponse(answer, status_code=201, headers={"Location": answer["ticket"]["url"]})


def replay(session: Session, scope: KeyScope, earlier) -> JSONResponse:
    if earlier is None or earlier.ticket_id is None:
        raise Problem(409, "同一幂等键的请求正在处理，请稍后重试",
                      "a request with this Idempotency-Key is in progress; retry later",
                      field="Idempotency-Key")
    if earlier.response is None:  # the ticket committed, its answer not yet written
        ticket = session.get(Ticket, earlier.ticket_id)
        answer, status = created(session, scope, ticket, bool(ticket.flow_run_id)), 201
    else:
        answer, status = earlier.response, earlier.status_code
    return JSONResponse(answer, status_code=status,
                        headers={"Location": answer["ticket"]["url"], "Idempotent-Replayed": "true"})


@router.get("/tickets/{number}", summary="读取工单 Read a ticket")
def read(session: Db, scope: TicketsRead, number: str):
    return ticket_detail(visible(session, scope, number), step_titles())


@router.get("/tickets", summary="查询工单 Search tickets")
def search(session: Db, site: Site, scope: TicketsRead,
           number: Annotated[str | None, Query(max_length=32)] = None,
           phone: Annotated[str | None, Query(max_length=40)] = None,
           status: TicketStatus | None = None, type: TicketType | None = None,
           unit: Annotated[str | None, Query(max_length=32)] = None,
           received_from: Annotated[Any, Query(description="ISO 8601 with offset")] = None,
           received_to: Annotated[Any, Query(description="ISO 8601 with offset")] = None,
           page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
           per_page: Annotated[int, Query(ge=1, le=100)] = 25):
    per_page = min(per_page, site.settings.api.max_page_size)
    if unit:
        find_region(session, unit)  # an unknown unit is an error here, not an empty page
    wanted = TicketQuery(number=number or "", phone=normalise_phone(phone) if phone else "",
                         status=status, type=type, unit=unit or "",
                         received_from=_instant("received_from", received_from),
                         received_to=_instant("received_to", received_to))
    rows, total = find_tickets(session, scope, wanted, now=site.clock(),
                               timezone=site.settings.timezone, offset=(page - 1) * per_page,
                               limit=per_page)
    return {"items": [ticket_summary(t) for t in rows], "page": page, "per_page": per_page,
            "total": total}


def _instant(field: str, text: str | None):
    return parse_instant(field, text) if text is not None else None


class Completion(BaseModel):
    staff: str = Field(max_length=32, description="工号 of the handler who did the work")
    data: dict[str, Any] = Field(default_factory=dict, description="the step's form fields")


@router.post("/tickets/{number}/steps/{step_id}/complete", summary="办结环节 Complete a step")
def complete(session: Db, site: Site, scope: StepsWrite, number: str,
             step_id: RowId, done: Completion):
    step = session.scalar(select(Step).where(Step.id == step_id, Step.ticket_id == visible(
        session, scope, number).id))
    if step is None:
        raise Problem(404, "环节不存在", f"no step {step_id} on ticket {number}", field="step_id")
    staff = session.scalar(select(Staff).where(Staff.code == done.staff, Staff.active))
    if staff is None:
        raise InputError("staff", "工号不存在或已停用", f"no active staff {done.staff!r}")
    if step.status != StepStatus.open:
        raise Problem(409, f"环节 {step.step_key} 已办结，无需重复提交",
                      f"step {step.step_key!r} is already done", field="step_id")
    if staff.department_id != step.department_id or staff.department.region_id not in \
            scope.region_ids:
        raise Problem(403, "该工号不属于办理该环节的部门", "this staff member's department does not "
                      "hold the step", field="staff")
    key = step.step_key
    session.commit()  # end this read before the lifecycle writes in its own transaction
    try:
        complete_step(number, key, done.data, staff.id, now=site.clock())
    except StepNotOpen as exc:
        raise Problem(409, exc.zh, exc.en, field="step_id") from None
    except httpx.HTTPError:  # recorded; the reconciler resumes the run
        pass
    session.expire_all()  # written by the use case's own transaction
    return ticket_detail(visible(session, scope, number), step_titles())
