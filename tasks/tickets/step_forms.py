"""A step's form for its ticket: the declaration of the ticket's lifecycle version, with the
department and staff fields offering names of the right departments and people, and the filled
form checked once for every sender (portal, CLI, Prefect UI). Stored data keeps the codes."""

from datetime import datetime
from typing import Any

import pendulum
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cases.case import Case
from models.core.enums import DepartmentKind
from models.core.errors import InputError, StepFormError
from models.core.formatting import local_time
from models.org.organisation import Department, Region, Staff
from models.tickets.forms import FieldDecl, form_model, validate_model
from models.tickets.lifecycle import Declaration
from models.tickets.ticket import Step, Ticket
from tasks.core.settings import get_settings
from tasks.knowledge.finding import SCRIPT_FIELD, check_used
from tasks.tickets.clocks import RECORDED_AT


def region_chain(region: Region) -> list[Region]:
    """The ticket's region and every one above it: where its departments may be found."""
    chain: list[Region] = []
    place: Region | None = region
    while place is not None:
        chain.append(place)
        place = place.parent
    return chain


def department_choices(session: Session, ticket: Ticket | Case, decl: FieldDecl) -> dict[str, str]:
    """{name: code} of the departments of the field's kinds in the ticket's (or case's) region
    chain, the nearest first; a name two regions share says whose it is."""
    kinds = decl.kinds or list(DepartmentKind)
    chain = region_chain(ticket.region)
    order = {region.id: i for i, region in enumerate(chain)}
    found = sorted(session.scalars(select(Department).where(
        Department.region_id.in_(order), Department.kind.in_(kinds))),
        key=lambda d: (order[d.region_id], kinds.index(d.kind), d.id))
    names = [d.name for d in found]
    return {(d.name if names.count(d.name) == 1 else f"{d.name}（{d.region.name}）"): d.code
            for d in found}


def staff_choices(session: Session, step: Step) -> dict[str, str]:
    """{name: code} of the active people of the department holding the step."""
    people = session.scalars(select(Staff).where(
        Staff.department_id == step.department_id, Staff.active.is_(True)).order_by(Staff.id))
    people = list(people)
    names = [p.name for p in people]
    return {(p.name if names.count(p.name) == 1 else f"{p.name}（{p.code}）"): p.code
            for p in people}


def picked_name(session: Session, kind: str, code: str) -> str:
    """The name of the department or person a stored form names by code (the code if gone)."""
    table = Department if kind == "department" else Staff
    return session.scalar(select(table.name).where(table.code == code)) or code


def picked(session: Session, spec: Declaration, step: Step) -> dict[str, dict[str, str]]:
    """{field: {name: code}} for the form's department and staff fields."""
    subject = step.ticket or step.case
    return {name: department_choices(session, subject, decl) if decl.type == "department"
            else staff_choices(session, step)
            for name, decl in spec.forms[step.form].picked().items()}


def step_model(session: Session, spec: Declaration, step: Step,
               choices: dict[str, dict[str, str]] | None = None) -> type[BaseModel]:
    """The step's form as a pydantic model, choices filled in for its ticket."""
    choices = picked(session, spec, step) if choices is None else choices
    return form_model(step.form, spec.forms[step.form],
                      {field: list(names) or ["（无可选项）"] for field, names in choices.items()})


def check_filled(session: Session, spec: Declaration, step: Step, data: dict[str, Any],
                 now: datetime) -> dict[str, Any]:
    """The one check of a filled step form, whoever sends it: the form of the ticket's version,
    a department or person given by name (or by code, as scripts do), then what only the clock
    knows (a recorded time). Returns the values as JSON, department and staff as their codes."""
    if step.form not in spec.forms:
        raise StepFormError({"": f"流程版本中没有表单 {step.form}"})
    choices = picked(session, spec, step)
    named = by_name(data, choices)
    filled = validate_model(step_model(session, spec, step, choices), named).model_dump(mode="json")
    for field, names in choices.items():
        if filled.get(field) is not None:
            if filled[field] not in names:  # the placeholder of an empty list
                raise StepFormError({field: "没有可选的部门或人员，请联系管理员"})
            filled[field] = names[filled[field]]
    if filled.get(SCRIPT_FIELD):  # the knowledge version the reply followed, in force now
        try:
            check_used(session, filled[SCRIPT_FIELD], at=now)
        except InputError as exc:
            raise StepFormError({SCRIPT_FIELD: exc.zh}) from None
    if step.form in RECORDED_AT:
        field = RECORDED_AT[step.form]
        filled[field] = recorded_time(filled.get(field), step.ticket.received_at, now, field)
    return filled


def recorded_time(value: str | None, received_at: datetime, now: datetime, field: str) -> str:
    """When the work was done, as the form records it: now when left empty (a time without a
    zone is the centre's), never in the future, never before the ticket was received."""
    zone = get_settings().timezone
    at = pendulum.parse(value, tz=zone) if value else pendulum.instance(now)
    if at > now:
        raise StepFormError({field: "时间不能晚于当前时间"})
    if at < received_at:
        raise StepFormError({field: f"时间不能早于工单受理时间（{local_time(received_at, zone)}）"})
    return at.in_timezone("UTC").isoformat()


def as_run_input(session: Session, spec: Declaration, step: Step,
                 filled: dict[str, Any]) -> dict[str, Any]:
    """Checked data with codes as the names the run's form offers: Prefect validates a resume's
    input against the form's schema, whose department and staff fields are lists of names."""
    return by_name(filled, picked(session, spec, step))


def by_name(data: dict[str, Any], choices: dict[str, dict[str, str]]) -> dict[str, Any]:
    """`data` with each department or staff field given by code put as the name offered."""
    named = dict(data)
    for field, names in choices.items():
        by_code = {code: name for name, code in names.items()}
        if isinstance(named.get(field), str) and named[field] in by_code:
            named[field] = by_code[named[field]]
    return named
