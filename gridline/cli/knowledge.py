"""gridline knowledge: import reply scripts and articles from a table; expire what passed its date
(the knowledge-expiry deployment runs the same every hour)."""

from pathlib import Path

import pendulum
import typer

from gridline.cli.common import echo_json, parse_instant, staff_scope
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.knowledge.expiry import expire_due
from tasks.knowledge.imports import import_file

app = typer.Typer(help="Reply scripts and knowledge articles.", no_args_is_help=True)


@app.command("import")
def import_(path: Path, by: str = typer.Option(..., help="the importing staff member's code"),
            as_json: bool = typer.Option(False, "--json")) -> None:
    """Import an xlsx or csv of versions as drafts (a known 文档编号 gets a new version)."""
    settings = get_settings()
    with session_scope() as session:
        staff = staff_scope(session, by).staff
        done = import_file(session, staff, path, now=pendulum.now("UTC"),
                           timezone=settings.timezone)
    if as_json:
        echo_json({"created": done.created})
        return
    typer.echo(f"已导入 {len(done.created)} 篇草稿：{'、'.join(done.created)}")


@app.command()
def expire(now: str | None = typer.Option(None, help="as of this ISO 8601 time (with offset)"),
           warn_days: int = typer.Option(7, help="warn the owners this many days ahead"),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Expire the versions past their date and notify their owners, once each."""
    at = parse_instant("now", now) if now else pendulum.now("UTC")
    with session_scope() as session:
        run = expire_due(session, now=at, warn_days=warn_days)
    if as_json:
        echo_json({"expired": run.expired, "warned": run.warned, "queued": run.queued})
        return
    typer.echo(f"失效 {run.expired} 篇，即将到期 {run.warned} 篇，新排队通知 {run.queued} 条")
