"""gridline outages import / notices: the outage register from the command line."""

import sys
from pathlib import Path

import pendulum
import typer

from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.outages.notices import notice_pass
from tasks.outages.outage_import import OutageReport, import_outages

app = typer.Typer(help="The outage register (停电信息).", no_args_is_help=True)


def print_report(report: OutageReport) -> None:
    if report.errors:
        typer.echo(f"共 {report.rows} 行，{len(report.errors)} 行有误，未写入任何数据 | rows "
                   f"{report.rows}, bad rows, nothing written:", err=True)
        for row, reason in report.errors:
            typer.echo(f"  第 {row} 行 row {row}: {reason}", err=True)
        return
    typer.echo(f"共 {report.rows} 行：新增 {len(report.created)}，更新 {len(report.updated)}，"
               f"未变 {len(report.unchanged)} | rows {report.rows}, created "
               f"{len(report.created)}, updated {len(report.updated)}, "
               f"unchanged {len(report.unchanged)}")


@app.command("import")
def import_file(path: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="FILE"),
                by: str = typer.Option("import", help="who the outages are recorded as entered by")
                ) -> None:
    """Upsert planned outages by 停电编号 from the distribution system's export (xlsx or csv).
    The whole file is checked first; with any bad row nothing is written (exit 1)."""
    with session_scope() as session:
        report = import_outages(session, path, timezone=get_settings().timezone, by=by,
                                now=pendulum.now("UTC"))
    print_report(report)
    if report.errors:
        sys.exit(1)


@app.command("notices")
def notices() -> None:
    """Queue the planned-outage notices due now, and the change and cancellation notices owed to
    the customers told (what the outage-notices deployment runs)."""
    with session_scope() as session:
        done = notice_pass(session, now=pendulum.now("UTC"), timezone=get_settings().timezone)
    for number, queued in done.notices.items():
        typer.echo(f"{number}: 新排队 {queued} 条 | {queued} queued")
    for number, queued in done.changes.items():
        typer.echo(f"{number}: 时间变更通知 {queued} 条 | {queued} change notices queued")
    for number, queued in done.cancellations.items():
        typer.echo(f"{number}: 取消通知 {queued} 条 | {queued} cancellation notices queued")
