"""gridline step: complete a lifecycle step with its form, as the department or the centre would;
reassign (转派) an open step, as a supervisor would."""

import json

import pendulum
import typer
from sqlalchemy import select

from flows.cases import complete_case_step
from flows.lifecycle import lifecycles
from flows.steps import complete_step
from flows.story import follow
from gridline.cli.common import echo_json, local_iso, staff_scope
from models.core.enums import StepStatus
from models.core.errors import InputError
from models.tickets.ticket import Step, Ticket
from tasks.audit.supervision import reassign_step
from tasks.cases.store import find_case
from tasks.core.db import session_scope

app = typer.Typer(help="Lifecycle steps.", no_args_is_help=True)


@app.command()
def complete(
    number: str = typer.Argument(..., help="ticket number, or case number"),
    step: str = typer.Argument(..., help="step key, e.g. handle, review, callback"),
    data: str = typer.Option(..., "--data", help='the filled form as JSON, e.g. {"result": "已处理"}'),
    by: int = typer.Option(..., "--by", help="staff id of the person completing it"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Check the form, record the step done and resume the ticket's (or case's) lifecycle run."""
    try:
        filled = json.loads(data)
    except json.JSONDecodeError as exc:
        raise InputError("data", "不是有效的 JSON", f"not valid JSON: {exc.msg}") from None
    if not isinstance(filled, dict):
        raise InputError("data", "须为 JSON 对象", "must be a JSON object")
    with session_scope() as session:
        case = find_case(session, number) is not None
    done = (complete_case_step if case else complete_step)(number, step, filled, by)
    summary = {"number": number, "step": done.step_key, "attempt": done.attempt,
               "completed_at": local_iso(done.completed_at), "form": done.form_data}
    if as_json:
        echo_json(summary)
    else:
        typer.echo(f"{'流程单' if case else '工单'} {number} 环节 {done.step_key} 已完成 | step completed")


@app.command()
def reassign(
    number: str = typer.Argument(..., help="ticket number"),
    step: str = typer.Argument(..., help="key of the open step, e.g. handle"),
    by: str = typer.Option(..., "--by", help="staff code of the supervisor"),
    reason: str = typer.Option(..., "--reason", help="转派原因, in the timeline"),
    department: str = typer.Option("", "--department", help="code of the receiving department"),
    staff: str = typer.Option("", "--staff", help="code of the receiving person"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """转派: hand the open step to another department or person within the supervisor's scope."""
    with session_scope() as session:
        row = session.scalar(select(Step).join(Ticket, Step.ticket_id == Ticket.id).where(
            Ticket.number == number, Step.step_key == step, Step.status == StepStatus.open))
        if row is None:
            raise InputError("step", f"工单{number}没有待处理的环节 {step}",
                             f"ticket {number} has no open step {step!r}")
        spec = lifecycles(session)[row.ticket.type]
        title = next((s.title for s in spec.steps if s.key == step), step)
        done = reassign_step(session, staff_scope(session, by), row.id, department=department,
                             staff=staff, reason=reason, now=pendulum.now("UTC"), title=title)
        summary = {"number": number, "step": done.step_key, "department": done.department.code,
                   "staff": done.assignee.code if done.assignee else None}
    follow(number)
    if as_json:
        echo_json(summary)
    else:
        holder = summary["department"] + (f" / {summary['staff']}" if summary["staff"] else "")
        typer.echo(f"工单 {number} 环节 {step} 已转派给 {holder} | reassigned")
