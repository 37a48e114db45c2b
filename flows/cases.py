"""Cases: the lifecycle engine over subjects other than tickets (a report submission, a quality
appeal, a reply script). One flow run per case walks its kind's page (flows/lifecycles/cases/),
on the ticket runs' terms: human steps suspend the run, the walk is rebuilt from the step rows at
each re-run, the Prefect UI's form is checked as the portal's, the story is told in the run, the
page version is pinned, and the reconciler restarts dead runs. A scheduled audit completes steps
whose lapse window has ended, as the system, through the same use case as a person."""

import logging
from datetime import datetime
from uuid import UUID

import pendulum
from prefect import flow, get_run_logger
from prefect.deployments import run_deployment
from sqlalchemy import event
from sqlalchemy.orm import Session

from flows.lifecycle import Holder, prefect_api_configured, run_step
from flows.steps import resume
from flows.story import CaseStory
from models.cases.case import Case
from models.cases.lifecycle import CaseSpec, CaseStepSpec
from models.core.errors import InputError
from models.org.organisation import Staff
from models.tickets.lifecycle import Walk
from models.tickets.ticket import Step
from tasks.cases.pages import case_spec, open_case_on_page, pin_case
from tasks.cases.store import (
    complete_case,
    enter_case_step,
    find_case_step,
    get_case,
    lapsed_steps,
)
from tasks.cases.subjects import subject_of
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.tickets.calendar_store import centre_calendar
from tasks.tickets.lifecycle_store import SYSTEM, StepNotOpen
from tasks.tickets.step_forms import as_run_input, check_filled

LAPSED = "逾期未办理，系统按期办结"


def case_holder(number: str) -> Holder:
    return Holder(number, get_case, find_case_step, _enter, describe_case, complete_case)


def _enter(session, case: Case, walk: Walk, step: CaseStepSpec, attempt: int, now) -> Step:
    return enter_case_step(session, case, walk, step, attempt, now, centre_calendar(session))


@flow(name="case", persist_result=True)
def case_lifecycle(case_number: str) -> str:
    """Walk the case through its page until it is closed or waits for someone."""
    with session_scope() as session:
        spec = pin_case(session, get_case(session, case_number))
    walk, story = Walk(spec), CaseStory()
    while walk.key is not None:
        step, attempt = walk.enter()
        outcome, data = run_step(case_holder(case_number), walk, step, attempt, story)
        walk.leave(step, outcome, data)
    return "closed"


def describe_case(session, case: Case, step: CaseStepSpec, row: Step) -> str:
    """The Markdown the Prefect UI shows above the step's form."""
    describe = subject_of(case.kind).describe
    due = row.due_at and pendulum.instance(row.due_at).in_timezone(get_settings().timezone)
    return (f"**{step.title}** · {case.title} {case.number}\n\n"
            f"- 处理部门：{row.department.name if row.department else '—'}\n"
            f"- 处理人：{row.assignee.name if row.assignee else '—'}\n"
            f"- 期限：{due.format('YYYY-MM-DD HH:mm') if due else '—'}\n"
            + (describe(session, case) if describe else ""))


def start_case(session: Session, kind: str, ref_id: int, region_id: int, title: str, *,
               opened_by: Staff | None, now: datetime | None = None) -> Case:
    """Open a case of `kind` over the subject row `ref_id`, acted on by the departments of unit
    `region_id`, on the page as it is now, in the caller's transaction; its run starts once that
    commits (without a
    Prefect server, or should the start fail, the reconciler starts it)."""
    case = open_case_on_page(session, kind, ref_id, region_id, title, opened_by=opened_by,
                             now=now or pendulum.now("UTC"))
    number = case.number
    if prefect_api_configured():
        event.listen(session, "after_commit", lambda _: run_case(number), once=True)
    return case


def run_case(number: str) -> str | None:
    """Start the committed case's run and record it; a failure to start is logged, not raised
    (the case stands, and the reconciler starts its run)."""
    try:
        with session_scope() as session:
            case = get_case(session, number)
            case.flow_run_id = start_case_run(case)
            return case.flow_run_id
    except Exception:  # noqa: BLE001 - the caller's transaction is committed already
        logging.getLogger(__name__).exception("the run of case %s did not start", number)
        return None


def start_case_run(case: Case, at: datetime | None = None) -> str:
    """The case's run on its kind's deployment (case/<kind>), named by its number."""
    run = run_deployment(
        name=f"case/{case.kind}", parameters={"case_number": case.number},
        flow_run_name=case.number, timeout=0, as_subflow=False, scheduled_time=at,
        tags=[f"case:{case.kind}", f"region:{case.region.code}"])
    return str(run.id)


def complete_case_step(number: str, step_key: str, data: dict, by_staff_id: int | None, *,
                       now: datetime | None = None) -> Step:
    """Validate `data` against the open step's form, record it done (the subject's rule and
    `not_by` checked first), resume the case's run. By None: the system. Of two submissions at
    once the later gets StepNotOpen (an InputError); a refusal writes nothing."""
    now = now or pendulum.now("UTC")
    with session_scope() as session:
        case = get_case(session, number)
        row = next((s for s in case.steps if s.step_key == step_key and s.status == "open"), None)
        if row is None:
            raise InputError("step", f"流程单{number}没有待处理的环节 {step_key}",
                             f"case {number} has no open step {step_key!r}")
        staff = None if by_staff_id is None else session.get(Staff, by_staff_id)
        if by_staff_id is not None and staff is None:
            raise InputError("by", "处理人不存在", f"no staff with id {by_staff_id}")
        spec = case_spec(session, case)
        filled = check_filled(session, spec, row, data, now)
        complete_case(session, case, spec, row, filled, by=staff, now=now,
                      actor=SYSTEM if staff is None else None)
        run_id, run_input = case.flow_run_id, as_run_input(session, spec, row, filled)
    if run_id:
        resume(UUID(run_id), run_input)
    return row


def lapse_data(spec: CaseSpec, step: CaseStepSpec) -> dict:
    """What the system fills when a step's window ends: the lapse outcome, and the reason in
    every text field the form requires."""
    fields = spec.forms[step.form].fields
    data = {name: LAPSED for name, decl in fields.items()
            if decl.type in ("text", "long_text") and name != "result"}
    return {**data, "result": step.lapse.outcome} if "result" in fields else data


@flow(name="case-lapses")
def lapse_case_steps(now: datetime | None = None) -> list[str]:
    """Complete, as the system, every open case step whose lapse window ended by `now` (default:
    now); of two audits at once each step is completed by one. Returns "<case> <step>" of each."""
    now = now or pendulum.now("UTC")
    with session_scope() as session:
        due = lapsed_steps(session, now)
        work = [(number, key, lapse_data(spec, spec.step(key)))
                for number, key in due
                if (spec := case_spec(session, get_case(session, number))).step(key).lapse]
    done = []
    for number, key, data in work:
        try:
            complete_case_step(number, key, data, None, now=now)
        except StepNotOpen:
            continue  # completed a moment before, by a person or the other audit
        except InputError as exc:  # the same, seen earlier; or the subject's rule refused
            get_run_logger().warning("%s 的环节 %s 未能按期办结：%s", number, key, exc.zh)
            continue
        done.append(f"{number} {key}")
        get_run_logger().info("%s 的环节 %s 逾期，已按期办结", number, key)
    return done

