"""gridline calendar: load a centre's own days off and on, or an official schedule of a year."""

from pathlib import Path

import typer

from tasks.core.db import session_scope
from tasks.tickets.calendar_store import read_calendar_file, store_calendar

app = typer.Typer(help="Working calendar.", no_args_is_help=True)


@app.command()
def load(
    path: Path,
    local: bool = typer.Option(False, "--local",
                               help="the centre's own extra days, not an official schedule"),
) -> None:
    """Load `date,working[,note]` rows (CSV). By default the rows are the official schedule of their
    years, which then no longer fall back to Monday-Friday."""
    rows = read_calendar_file(path)
    with session_scope() as session:
        count = store_calendar(session, rows, "local" if local else "official")
    years = sorted({r.day.year for r in rows})
    typer.echo(f"已载入 {count} 天（{', '.join(map(str, years))}）| loaded {count} days")
