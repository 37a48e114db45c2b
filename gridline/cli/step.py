"""gridline step: complete a lifecycle step with its form, as the department or the centre would."""

import json

import typer

from flows.steps import complete_step
from gridline.cli.common import echo_json, local_iso
from models.core.errors import InputError

app = typer.Typer(help="Lifecycle steps.", no_args_is_help=True)


@app.command()
def complete(
    number: str = typer.Argument(..., help="ticket number"),
    step: str = typer.Argument(..., help="step key, e.g. handle, review, callback"),
    data: str = typer.Option(..., "--data", help='the filled form as JSON, e.g. {"result": "已处理"}'),
    by: int = typer.Option(..., "--by", help="staff id of the person completing it"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Check the form, record the step done and resume the ticket's lifecycle run."""
    try:
        filled = json.loads(data)
    except json.JSONDecodeError as exc:
        raise InputError("data", "不是有效的 JSON", f"not valid JSON: {exc.msg}") from None
    if not isinstance(filled, dict):
        raise InputError("data", "须为 JSON 对象", "must be a JSON object")
    done = complete_step(number, step, filled, by)
    summary = {"number": number, "step": done.step_key, "attempt": done.attempt,
               "completed_at": local_iso(done.completed_at), "form": done.form_data}
    if as_json:
        echo_json(summary)
    else:
        typer.echo(f"工单 {number} 环节 {done.step_key} 已完成 | step completed")
