"""gridline import: bring in tickets from the marketing system's export."""

import sys
from pathlib import Path

import pendulum
import typer

from gridline.cli.common import echo_json
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.tickets.marketing_import import import_export, read_mapping

app = typer.Typer(help="Imports.", no_args_is_help=True)


@app.command()
def tickets(path: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="FILE"),
            mapping: Path | None = typer.Option(None, help="YAML of column headers and words"),
            as_json: bool = typer.Option(False, "--json")) -> None:
    """Upsert tickets by number; bad rows are reported (exit 1) while the good rows land."""
    column_map = read_mapping(mapping)
    with session_scope() as session:
        report = import_export(session, path, mapping=column_map, now=pendulum.now("UTC"),
                               timezone=get_settings().timezone)
    if as_json:
        echo_json(report.as_dict())
    else:
        typer.echo(f"共 {report.rows} 行：新增 {report.created}，更新 {report.updated}，"
                   f"有误 {len(report.errors)} | rows {report.rows}, created {report.created}, "
                   f"updated {report.updated}, rejected {len(report.errors)}")
        for error in report.errors:
            typer.echo(f"  第 {error['row']} 行 row {error['row']}: {error['reason']}", err=True)
    if report.errors:
        sys.exit(1)
