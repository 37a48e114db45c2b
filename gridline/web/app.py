"""The portal's pages: login, inbox, ticket, step form, call intake, supervision (with a second
chance for undelivered messages).

`uvicorn --factory gridline.web.app:create_app` serves it; `gridline up` starts it beside the
Prefect UI. Reads go through models; a ticket is created by tasks.tickets.store.create_ticket and its
lifecycle run started, a step is completed by the lifecycle's complete_step (which resumes the run).
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload
from starlette.middleware.sessions import SessionMiddleware

from flows.lifecycle import lifecycles, prefect_api_configured, start_lifecycle
from flows.steps import complete_step
from gridline.web import forms as webforms
from gridline.web import security
from gridline.web.auth import (
    LoginThrottle,
    client_address,
    csrf_token,
    end_session,
    portal_secret,
    start_session,
    trusted_networks,
)
from gridline.web.deps import CSRF, Db, LoginRequired, Me, Posted
from gridline.web.password import router as password_router
from gridline.web.render import make_templates
from gridline.web.scope import Scope
from gridline.web.security import MAX_BODY, PageNo, RowId
from models.core.enums import OPEN_STATUSES, StepStatus, TicketType, Urgency
from models.core.errors import InputError
from models.messaging.outbox import OutboxMessage, OutboxStatus
from models.org.organisation import Region, Staff
from models.org.passwords import MAX_LENGTH as MAX_PASSWORD
from models.tickets.forms import FORMS
from models.tickets.intake import normalise_phone, parse_intake
from models.tickets.ticket import Step, Ticket, TicketClock
from tasks.core.schema import require_latest_schema
from tasks.core.settings import Settings, get_settings
from tasks.messaging.outbox import retry as retry_outbox_message
from tasks.org.passwords import hash_password, verify_password
from tasks.tickets.calendar_store import load_work_calendar
from tasks.tickets.rule_store import load_rules
from tasks.tickets.store import create_ticket, find_customer_by_phone, find_region

LOGIN_FIELDS = {"code": "工号", "password": "密码"}


def create_app(settings: Settings | None = None,
               clock: Callable[[], datetime] | None = None) -> FastAPI:
    settings = settings or get_settings()
    require_latest_schema(settings.database_url)  # one clear line, not a 500 on the first page
    clock = clock or (lambda: datetime.now(UTC))
    templates = make_templates(settings)
    config = settings.portal
    throttle = LoginThrottle(config.login_max_failures, config.login_max_failures_per_address,
                             config.login_window_seconds, clock)
    proxies = trusted_networks(config.trusted_proxies)
    no_such_user = hash_password("no such user")  # failed logins of unknown codes take as long
    size = config.page_size
    prefect_ui = config.prefect_ui_url or f"http://127.0.0.1:{settings.prefect_port}"
    # Looked up for every inbox row: from the declarations once, not the settings each time.
    titles = {(ticket_type, step.key): step.title
              for ticket_type, spec in lifecycles().items() for step in spec.steps}

    app = FastAPI(title="Gridline 门户", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings, app.state.templates, app.state.clock = settings, templates, clock
    app.add_middleware(SessionMiddleware, secret_key=portal_secret(settings),
                       session_cookie="gridline_session", same_site="lax",
                       https_only=config.secure_cookies, max_age=config.session_hours * 3600)
    security.install(app, templates)
    app.include_router(password_router)

    def page(request: Request, name: str, scope: Scope | None = None, status_code: int = 200,
             **context):
        return templates.TemplateResponse(request, name, {
            "me": scope.staff if scope else None, "scope": scope, "csrf": csrf_token(request),
            "flash": request.session.pop("flash", None), "now": clock(), **context,
        }, status_code=status_code)

    @app.exception_handler(LoginRequired)
    def to_login(request: Request, _exc: LoginRequired):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    # --- login ---------------------------------------------------------------------------------

    @app.get("/login")
    def login_form(request: Request, next: str = "/inbox"):
        return page(request, "login.html", next=next, code="", error="")

    @app.post("/login", dependencies=CSRF)
    def login(request: Request, session: Db, form: Posted):
        try:
            code = webforms.form_text(form, "code", Staff.code.type.length).strip()
            password = webforms.form_text(form, "password", MAX_PASSWORD)
            target = webforms.form_text(form, "next", 2000)
        except InputError as exc:
            return page(request, "login.html", status_code=422, next="/inbox", code="",
                        error=f"{LOGIN_FIELDS.get(exc.field, '表单')}{exc.zh}。")
        if not target.startswith("/") or target.startswith("//"):
            target = "/inbox"  # never an open redirect
        booked = throttle.book(session, code, client_address(request, proxies))
        if booked is None:
            return page(request, "login.html", status_code=429, next=target, code=code,
                        error="登录失败次数过多，请稍后再试。")
        staff = session.scalar(select(Staff).where(Staff.code == code, Staff.active))
        valid = verify_password(staff.password_hash if staff else no_such_user, password)
        if staff is None or not valid:  # the booked failure stays
            return page(request, "login.html", status_code=401, next=target, code=code,
                        error="工号或密码错误。")
        throttle.succeeded(session, code, booked)
        start_session(request, session, staff, clock(), config.session_hours)
        return RedirectResponse(target, status_code=303)

    @app.post("/logout", dependencies=CSRF)
    def logout(request: Request, session: Db):
        end_session(request, session, clock())
        return RedirectResponse("/login", status_code=303)

    # --- inbox and ticket ------------------------------------------------------------------------

    @app.get("/")
    def home():
        return RedirectResponse("/inbox", status_code=303)

    @app.get("/inbox")
    def inbox(request: Request, session: Db, me: Me, type: str = "", status: str = "open",
              page_no: PageNo = 1):
        ticket_type = TicketType(type) if type in TicketType.__members__ else None
        step_status = StepStatus(status) if status in StepStatus.__members__ else StepStatus.open
        mine = [Step.department_id == me.staff.department_id, Step.status == step_status]
        # Plain rows, not ORM objects: the inbox is the page everyone keeps open.
        query = (select(Step.id, Step.step_key, Step.status, Step.due_at, Ticket.number,
                        Ticket.type, Ticket.content)
                 .join(Ticket, Step.ticket_id == Ticket.id).where(*mine))
        counted = select(func.count()).select_from(Step).where(*mine)  # the index alone
        if ticket_type:
            query = query.where(Ticket.type == ticket_type)
            counted = counted.join(Ticket, Step.ticket_id == Ticket.id).where(
                Ticket.type == ticket_type)
        total = session.scalar(counted)
        rows = session.execute(query.order_by(Step.due_at.asc().nulls_last(), Step.id)
                               .limit(size).offset((page_no - 1) * size)).all()
        return page(request, "inbox.html", me, rows=rows, total=total, page_no=page_no,
                    pages=max(1, -(-total // size)), type=ticket_type, status=step_status,
                    types=list(TicketType), statuses=list(StepStatus), step_title=step_title)

    @app.get("/tickets/{number}")
    def ticket_page(request: Request, session: Db, me: Me, number: str):
        ticket = session.scalars(
            select(Ticket).where(Ticket.number == number, me.sees_ticket())
            .options(joinedload(Ticket.region), joinedload(Ticket.customer),
                     selectinload(Ticket.clocks), selectinload(Ticket.events),
                     selectinload(Ticket.steps).options(joinedload(Step.department),
                                                        joinedload(Step.completed_by)))
        ).first()
        if ticket is None:
            raise HTTPException(404)
        run_url = (f"{prefect_ui}/runs/flow-run/{ticket.flow_run_id}"
                   if ticket.flow_run_id else None)
        messages = session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id)
                                   .order_by(OutboxMessage.created_at)).all()
        return page(request, "ticket.html", me, ticket=ticket, run_url=run_url,
                    step_title=step_title, messages=messages)

    # --- step forms ------------------------------------------------------------------------------

    def step_title(ticket_type: TicketType, step_key: str) -> str:
        """The step's title in its lifecycle (a step a newer declaration dropped keeps its key)."""
        return titles.get((ticket_type, step_key), step_key)

    def actionable_step(session: Session, me: Scope, step_id: int) -> tuple[Step, type[BaseModel]]:
        step = session.scalars(select(Step).join(Ticket, Step.ticket_id == Ticket.id)
                               .where(Step.id == step_id, me.sees_ticket())).first()
        if step is None:
            raise HTTPException(404)
        if not me.acts_on(step):
            raise HTTPException(403, "该环节由其他部门办理，您只能查看，不能提交。")
        if step.form not in FORMS:
            raise HTTPException(404)
        return step, FORMS[step.form]

    def step_page(request, me, step, model, status_code=200, typed=None, errors=None):
        return page(request, "step.html", me, status_code=status_code, step=step,
                    ticket=step.ticket, title=step_title(step.ticket.type, step.step_key), intro=model.__doc__ or "",
                    widgets=webforms.widgets(model, typed, errors),
                    general_error=(errors or {}).get("", ""))

    def already_done(request, me, step, status_code):
        who = step.completed_by.name if step.completed_by else "他人"
        when = templates.env.filters["local_time"](step.completed_at)
        return page(request, "message.html", me, status_code=status_code, title="无需重复提交",
                    message=f"该环节已由{who}于 {when} 办结（{step.status.label}），无需再次提交。",
                    link=f"/tickets/{step.ticket.number}")

    @app.get("/steps/{step_id}")
    def step_form(request: Request, session: Db, me: Me, step_id: RowId):
        step, model = actionable_step(session, me, step_id)
        if step.status != StepStatus.open:
            return already_done(request, me, step, 200)
        return step_page(request, me, step, model)

    @app.post("/steps/{step_id}", dependencies=CSRF)
    def submit_step(request: Request, session: Db, me: Me, form: Posted, step_id: RowId):
        step, model = actionable_step(session, me, step_id)
        if step.status != StepStatus.open:
            return already_done(request, me, step, 409)
        data, typed = webforms.read_submission(model, form, settings.timezone)
        filled, errors = webforms.validate(model, data)
        if errors:
            return step_page(request, me, step, model, 422, typed, errors)
        number, key = step.ticket.number, step.step_key
        session.commit()  # end this read before the lifecycle writes in its own transaction
        try:
            complete_step(number, key, filled.model_dump(mode="json"), me.staff.id, now=clock())
        except InputError as exc:
            session.expire_all()
            if step.status != StepStatus.open:  # someone else submitted it a moment before
                return already_done(request, me, step, 409)
            errors = getattr(exc, "errors", None) or {"": exc.zh}  # StepFormError: per field
            return step_page(request, me, step, model, 422, typed, errors)
        except httpx.HTTPError:  # recorded, but the run could not be told
            request.session["flash"] = (f"工单 {number} 的环节已记录，但流程暂未能继续（Prefect "
                                        "服务不可用），请联系管理员。")
            return RedirectResponse("/inbox", status_code=303)
        request.session["flash"] = f"工单 {number} 的“{step_title(step.ticket.type, key)}”已提交。"
        return RedirectResponse("/inbox", status_code=303)

    # --- agent intake ----------------------------------------------------------------------------

    def intake_page(request, session, me, values, errors=None, status_code=200):
        phone = values.get("phone", "")
        customer, open_tickets, faults = None, [], []
        errors = dict(errors or {})
        if phone and "phone" not in errors:
            try:
                phone = normalise_phone(phone)
            except ValueError:
                errors["phone"] = "电话号码无效"
        if phone and "phone" not in errors:
            customer = find_customer_by_phone(session, phone)
            same_caller = Ticket.caller_phone == phone
            if customer:
                same_caller = or_(same_caller, Ticket.customer_id == customer.id)
                for name, value in (("name", customer.name), ("address", customer.address),
                                    ("region", customer.region.code)):
                    values.setdefault(name, value)
            open_tickets = session.scalars(
                select(Ticket).where(same_caller, Ticket.status.in_(OPEN_STATUSES),
                                     me.sees_ticket())
                .order_by(Ticket.received_at.desc()).limit(size)).all()
            region_id = customer.region_id if customer else None
            if region_id:
                faults = session.scalars(
                    select(Ticket).where(Ticket.type == TicketType.fault_repair,
                                         Ticket.region_id == region_id,
                                         Ticket.status.in_(OPEN_STATUSES))
                    .order_by(Ticket.received_at.desc()).limit(size)).all()
        regions = session.scalars(select(Region).where(Region.id.in_(me.region_ids))
                                  .order_by(Region.code)).all()
        return page(request, "intake.html", me, status_code=status_code, values=values,
                    errors=errors, customer=customer, open_tickets=open_tickets, faults=faults,
                    regions=regions, types=list(TicketType), urgencies=list(Urgency))

    def require_intake(me: Scope) -> None:
        if not me.takes_calls:
            raise HTTPException(403, "只有坐席、值班长和管理员可以受理来电。")

    @app.get("/intake")
    def intake_form(request: Request, session: Db, me: Me, phone: str = ""):
        require_intake(me)
        return intake_page(request, session, me, {"phone": phone.strip()})

    @app.post("/intake", dependencies=CSRF)
    def intake(request: Request, session: Db, me: Me, form: Posted):
        require_intake(me)
        fields = ("type", "subtype", "urgency", "phone", "name", "address", "region", "content")
        values = {}
        now = clock()
        try:
            for name in fields:  # no file, no control character; too long: the model says so
                values[name] = webforms.form_text(form, name, MAX_BODY, True).strip()
            intake = parse_intake({k: v for k, v in values.items() if v} | {"channel": "phone"})
            if intake.region and find_region(session, intake.region).id not in me.region_ids:
                raise InputError("region", "不在您的管辖范围内", "region outside your scope")
            calendar = load_work_calendar(session, settings.timezone, settings.workday_start,
                                          settings.workday_end)
            ticket = create_ticket(session, intake, now=now, calendar=calendar,
                                   rules=load_rules(session))
            number = ticket.number
            session.commit()
        except InputError as exc:
            session.rollback()
            return intake_page(request, session, me, values, {exc.field: exc.zh}, 422)
        request.session["flash"] = f"已创建工单 {number}。"
        if prefect_api_configured():
            # Started once the ticket is committed, so the run always finds it.
            try:
                ticket.flow_run_id = start_lifecycle(session, ticket)
                session.commit()
            except httpx.HTTPError:
                request.session["flash"] = (f"工单 {number} 已保存，但流程未能启动（Prefect 服务"
                                            "不可用），请联系管理员。")
        return RedirectResponse(f"/tickets/{number}", status_code=303)

    # --- supervision -----------------------------------------------------------------------------

    @app.get("/supervise")
    def supervise(request: Request, session: Db, me: Me):
        if not me.supervises:
            raise HTTPException(403, "督办页面仅向部门负责人、值班长和管理员开放。")
        now = clock()
        running = (select(TicketClock, Ticket).join(Ticket, TicketClock.ticket_id == Ticket.id)
                   .where(TicketClock.met_at.is_(None), Ticket.status.in_(OPEN_STATUSES),
                          me.sees_ticket()).order_by(TicketClock.due_at))
        overdue_query = running.where(TicketClock.due_at <= now)
        overdue = (session.execute(overdue_query.limit(size)).all(),
                   session.scalar(select(func.count()).select_from(overdue_query.subquery())))
        # About to expire: within each clock's own warning window (the deadline rules' `warn`,
        # as the audit reads it); the widest window bounds the query.
        widest = session.scalar(select(func.max(TicketClock.warn_minutes))
                                .where(TicketClock.met_at.is_(None))) or 0
        soon = [row for row in session.execute(running.where(
                    TicketClock.due_at > now, TicketClock.due_at <= now + timedelta(minutes=widest)))
                if row[0].due_at - timedelta(minutes=row[0].warn_minutes) <= now]
        expiring = soon[:size], len(soon)
        # The outbox of the same scope: how many messages stand in each state, and the ones
        # not delivered yet, oldest first.
        of_my_tickets = OutboxMessage.ticket_id.in_(select(Ticket.id).where(me.sees_ticket()))
        states = dict(session.execute(
            select(OutboxMessage.status, func.count()).where(of_my_tickets)
            .group_by(OutboxMessage.status)).all())
        undelivered = session.execute(
            select(OutboxMessage, Ticket).join(Ticket, OutboxMessage.ticket_id == Ticket.id)
            .where(of_my_tickets, OutboxMessage.status != OutboxStatus.sent)
            .order_by(OutboxMessage.created_at).limit(size)).all()
        return page(request, "supervise.html", me, overdue=overdue, expiring=expiring,
                    states=states, outbox_states=list(OutboxStatus),
                    undelivered=undelivered)

    @app.post("/outbox/{message_id}/retry", dependencies=CSRF)
    def retry_message(request: Request, session: Db, me: Me, message_id: RowId):
        """A supervisor's second chance for a message the gateway refused (wrong number fixed,
        platform back): queued again now, with fresh attempts."""
        if not me.supervises:
            raise HTTPException(403, "仅部门负责人、值班长和管理员可重新发送消息。")
        mine = session.scalar(
            select(OutboxMessage.id).join(Ticket, OutboxMessage.ticket_id == Ticket.id)
            .where(OutboxMessage.id == message_id, me.sees_ticket()))
        if mine is None:
            raise HTTPException(404, "消息不存在或不在您的督办范围内。")
        try:
            retry_outbox_message(session, message_id, now=clock())
            request.session["flash"] = f"消息 #{message_id} 已重新排队，等待发送。"
        except InputError as exc:
            request.session["flash"] = f"消息 #{message_id}：{exc.zh}。"
        return RedirectResponse("/supervise#undelivered", status_code=303)

    return app
