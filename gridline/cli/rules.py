"""gridline rules: check a deadline rule without creating a ticket; load a rule file."""

from pathlib import Path

import typer

from gridline.cli.common import (
    echo_json,
    local_date,
    local_iso,
    parse_instant,
    warn_fallback_years,
)
from models.core.enums import AreaKind, TicketType
from models.core.errors import InputError
from models.tickets.rules import applicable_rules, due_times
from tasks.core.db import session_scope
from tasks.tickets.calendar_store import centre_calendar
from tasks.tickets.rule_store import load_rules, store_rule_file

app = typer.Typer(help="Deadline rules.", no_args_is_help=True)


def _enum(field: str, enum_cls, value: str):
    try:
        return enum_cls(value)
    except ValueError:
        raise InputError(field, "取值无效", f"{value!r} is not one of {enum_cls.choices()}") from None


@app.command()
def due(
    type: str = typer.Option(..., "--type"),
    start: str = typer.Option(..., help="ISO 8601 with offset"),
    area: str = typer.Option("urban", help="urban|rural|remote"),
    subtype: str | None = typer.Option(None),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Each deadline clock of a ticket type and its due time."""
    ticket_type = _enum("type", TicketType, type)
    area_kind = _enum("area", AreaKind, area)
    started = parse_instant("start", start)
    with session_scope() as session:
        calendar = centre_calendar(session)
        chosen = applicable_rules(load_rules(session), ticket_type, subtype, area_kind,
                                  local_date(started, calendar.timezone))
        if not chosen:
            raise InputError("type", "该类型没有生效的期限规则", f"no rule in force for {type}")
        clocks = due_times(chosen, started, calendar)
    warn_fallback_years(calendar)
    result = {
        "type": ticket_type.value, "subtype": subtype, "area": area_kind.value,
        "start": local_iso(started), "rule_version": chosen[0].version,
        "clocks": {c.clock: {"label": c.label, "due_at": local_iso(c.due_at),
                             "starts_after": c.starts_after or None} for c in clocks},
    }
    if as_json:
        echo_json(result)
        return
    for name, clock in result["clocks"].items():
        typer.echo(f"{clock['label']}（{name}）期限 {clock['due_at']}")


@app.command()
def load(path: Path) -> None:
    """Load a YAML rule file as one version (replacing that version's rules whole)."""
    with session_scope() as session:
        version, count = store_rule_file(session, path)
    typer.echo(f"已载入规则版本 {version}，共 {count} 条 | loaded {count} rules of version {version}")
