"""A step's form: shown to its department with what it needs to decide (what the earlier steps
said, that it came back and why, the ticket's clocks), checked beside each field, completed once
(which resumes the ticket's run)."""

from functools import partial

import httpx
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session, object_session

from flows.lifecycle import lifecycle_of
from flows.steps import complete_step
from gridline.web import forms as webforms
from gridline.web.deps import CSRF, Db, Me, Posted, Site
from gridline.web.render import Portal
from gridline.web.security import RowId
from models.core.enums import StepStatus
from models.core.errors import InputError
from models.tickets.forms import PICKED, FormDecl
from models.tickets.ticket import Step
from tasks.knowledge.finding import SCRIPT_FIELD, for_call
from tasks.knowledge.scope import call_for_ticket
from tasks.org.scope import Scope
from tasks.tickets.queries import step_context, visible_step
from tasks.tickets.step_forms import picked_name, step_model

router = APIRouter()


def actionable_step(session: Session, me: Scope, step_id: int) -> tuple[Step, type[BaseModel]]:
    step = visible_step(session, me, step_id)
    if step is None:
        raise HTTPException(404)
    if not me.acts_on(step):
        raise HTTPException(403, "该环节由其他部门办理，您只能查看，不能提交。")
    spec = lifecycle_of(session, step.ticket)
    if step.form not in spec.forms:
        raise HTTPException(404)
    return step, step_model(session, spec, step)  # department and staff: names to choose from


def what_was_said(forms: dict[str, FormDecl], step: Step) -> list[tuple[str, str]]:
    """A done step's form as (field title, value), titles from the declaration the ticket runs on
    (a field the form no longer declares keeps its name), a department or person by name; empty
    values left out."""
    form = forms.get(step.form or "")
    fields = form.fields if form is not None else {}
    said = []
    for name, value in (step.form_data or {}).items():
        if value in (None, ""):
            continue
        info = fields.get(name)
        if info is not None and info.type in PICKED:
            text = picked_name(object_session(step), info.type, value)
        else:
            text = {True: "是", False: "否"}.get(value, value) if isinstance(value, bool) else value
        said.append(((info.title if info and info.title else name), str(text)))
    return said


def return_reason(forms: dict[str, FormDecl], step: Step | None) -> str:
    """Why a step came back: the words the step before it wrote beside its outcome (`result`),
    not the department or person it chose."""
    if step is None:
        return ""
    form = forms.get(step.form or "")
    chosen = set(form.picked()) if form is not None else set()
    return "；".join(str(value).strip() for name, value in (step.form_data or {}).items()
                    if name != "result" and name not in chosen and isinstance(value, str)
                    and value.strip())


def step_page(request: Request, portal: Portal, me: Scope, step: Step, model: type[BaseModel],
              status_code: int = 200, typed: dict | None = None, errors: dict | None = None):
    context = step_context(step)
    session = object_session(step)
    forms = lifecycle_of(session, step.ticket).forms
    scripts = (for_call(session, call_for_ticket(session, step.ticket), at=portal.clock())
               if SCRIPT_FIELD in model.model_fields else None)
    return portal.page(request, "step.html", me, status_code=status_code, step=step,
                       ticket=step.ticket, title=portal.step_title(step.ticket.type, step.step_key),
                       intro=model.__doc__ or "", widgets=webforms.widgets(model, typed, errors),
                       general_error=(errors or {}).get("", ""), context=context,
                       said=partial(what_was_said, forms),
                       reason=return_reason(forms, context.previous), scripts=scripts)


def already_done(request: Request, portal: Portal, me: Scope, step: Step, status_code: int):
    who = step.completed_by.name if step.completed_by else "他人"
    when = portal.templates.env.filters["local_time"](step.completed_at)
    return portal.page(request, "message.html", me, status_code=status_code, title="无需重复提交",
                       message=f"该环节已由{who}于 {when} 办结（{step.status.label}），无需再次提交。",
                       link=f"/tickets/{step.ticket.number}")


@router.get("/steps/{step_id}")
def step_form(request: Request, session: Db, me: Me, portal: Site, step_id: RowId):
    step, model = actionable_step(session, me, step_id)
    if step.status != StepStatus.open:
        return already_done(request, portal, me, step, 200)
    return step_page(request, portal, me, step, model)


@router.post("/steps/{step_id}", dependencies=CSRF)
def submit_step(request: Request, session: Db, me: Me, form: Posted, portal: Site, step_id: RowId):
    step, model = actionable_step(session, me, step_id)
    if step.status != StepStatus.open:
        return already_done(request, portal, me, step, 409)
    data, typed = webforms.read_submission(model, form, portal.settings.timezone)
    filled, errors = webforms.validate(model, data)
    if errors:
        return step_page(request, portal, me, step, model, 422, typed, errors)
    number, key = step.ticket.number, step.step_key
    session.commit()  # end this read before the lifecycle writes in its own transaction
    try:
        complete_step(number, key, filled.model_dump(mode="json"), me.staff.id, now=portal.clock())
    except InputError as exc:
        session.expire_all()
        if step.status != StepStatus.open:  # someone else submitted it a moment before
            return already_done(request, portal, me, step, 409)
        errors = getattr(exc, "errors", None) or {"": exc.zh}  # StepFormError: per field
        return step_page(request, portal, me, step, model, 422, typed, errors)
    except httpx.HTTPError:  # recorded, but the run could not be told
        request.session["flash"] = (f"工单 {number} 的环节已记录，但流程暂未能继续（Prefect "
                                    "服务不可用），请联系管理员。")
        return RedirectResponse("/inbox", status_code=303)
    title = portal.step_title(step.ticket.type, key)
    request.session["flash"] = f"工单 {number} 的“{title}”已提交。"
    return RedirectResponse("/inbox", status_code=303)
