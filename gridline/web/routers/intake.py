"""An agent takes a call: the caller recognised by phone within the agent's scope (their open
tickets, known faults of the area; each lookup recorded and rate-limited), and a new ticket opened
through the one "open a ticket" use case, once per rendered form."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from flows.intake import LifecycleNotStarted, open_ticket
from gridline.web.deps import CSRF, Db, Me, Posted, Site
from gridline.web.forms import form_text
from gridline.web.render import Portal
from gridline.web.security import MAX_BODY
from models.core.enums import TicketType, Urgency
from models.core.errors import InputError
from models.tickets.intake import normalise_phone
from models.tickets.ticket import IntakeToken
from tasks.knowledge.finding import for_call
from tasks.knowledge.scope import call_for_customer
from tasks.org.lookups import start_lookup
from tasks.org.scope import Scope
from tasks.tickets.intake_forms import AlreadyOpened, issue_form
from tasks.tickets.queries import Caller, caller, regions_in_scope

router = APIRouter()
FIELDS = ("type", "subtype", "urgency", "phone", "name", "address", "line", "region", "content")
TOKEN_LENGTH = IntakeToken.token.type.length


def agent(me: Me) -> Scope:
    if not me.takes_calls:
        raise HTTPException(403, "只有坐席、值班长和管理员可以受理来电。")
    return me


Agent = Annotated[Scope, Depends(agent)]


def intake_page(request: Request, portal: Portal, session: Session, me: Scope, values: dict,
                errors: dict | None = None, status_code: int = 200):
    config, now = portal.settings.portal, portal.clock()
    phone = values.get("phone", "")
    known = Caller()
    errors = dict(errors or {})
    if phone and "phone" not in errors:
        try:
            phone = normalise_phone(phone)
        except InputError as exc:
            errors["phone"] = exc.zh
    if phone and "phone" not in errors:
        lookup = start_lookup(session, me.staff.id, phone, now=now,
                              per_minute=config.lookups_per_minute)
        if lookup.refused:
            errors["phone"] = (f"查询过于频繁：每分钟最多查询 {config.lookups_per_minute} 次，"
                               "请稍后再试。")
            status_code = 429
    if phone and "phone" not in errors:
        known = caller(session, me, phone, config.page_size, now)
        lookup.found = known.customer is not None
        session.commit()
        if known.customer:
            for name, value in (("name", known.customer.name),
                                ("address", known.customer.address),
                                ("region", known.customer.region.code)):
                values.setdefault(name, value)
    scripts = []
    if phone and "phone" not in errors:  # the approved answers for this caller, in force now
        call = call_for_customer(session, known.customer, ticket_type=values.get("type") or None,
                                 subtype=values.get("subtype") or None)
        scripts = for_call(session, call, at=now)
    form = issue_form(session, me.staff.id, now=now, valid_hours=config.intake_form_hours)
    return portal.page(request, "intake.html", me, status_code=status_code, values=values,
                       errors=errors, customer=known.customer, open_tickets=known.open_tickets,
                       faults=known.faults, outages=known.outages,
                       outages_ahead=known.outages_ahead,
                       regions=regions_in_scope(session, me), types=list(TicketType),
                       urgencies=list(Urgency), form_token=form, scripts=scripts)


@router.get("/intake")
def intake_form(request: Request, session: Db, me: Agent, portal: Site, phone: str = ""):
    return intake_page(request, portal, session, me, {"phone": phone.strip()})


@router.post("/intake", dependencies=CSRF)
def intake(request: Request, session: Db, me: Agent, form: Posted, portal: Site):
    values = {}
    try:
        for name in FIELDS:  # no file, no control character; too long: the model says so
            values[name] = form_text(form, name, MAX_BODY, multiline=True).strip()
        data = {k: v for k, v in values.items() if v} | {"channel": "phone"}
        ticket = open_ticket(session, data, now=portal.clock(), scope=me,
                             form=form_text(form, "form", TOKEN_LENGTH), settings=portal.settings
                             ).ticket
    except AlreadyOpened as exc:  # a double click or a resubmit: the first POST's ticket
        session.rollback()
        request.session["flash"] = f"该表单已提交过，工单 {exc.number} 已创建，未重复创建。"
        return RedirectResponse(f"/tickets/{exc.number}", status_code=303)
    except InputError as exc:
        session.rollback()
        return intake_page(request, portal, session, me, values, {exc.field: exc.zh}, 422)
    except LifecycleNotStarted as exc:
        request.session["flash"] = f"{exc.zh}，请联系管理员。"
        return RedirectResponse(f"/tickets/{exc.number}", status_code=303)
    request.session["flash"] = f"已创建工单 {ticket.number}。"
    return RedirectResponse(f"/tickets/{ticket.number}", status_code=303)
