"""gridline audit: run the deadline audit once (the deadline-audit deployment runs it every 5 min)."""

import pendulum
import typer

from gridline.cli.common import echo_json, local_date, local_iso, parse_instant
from tasks.audit.chase import audit_due, check_clock
from tasks.audit.workbooks import write_day_workbooks
from tasks.core.db import session_scope
from tasks.core.settings import get_settings

app = typer.Typer(help="Deadline audit.", no_args_is_help=True)


@app.command()
def run(now: str | None = typer.Option(None, help="audit as of this ISO 8601 time (with offset); "
                                                   "default now, checked against the database clock"),
        as_json: bool = typer.Option(False, "--json")) -> None:
    """Find about-to-expire and overdue tickets, queue reminders, write the day's workbooks."""
    settings = get_settings()
    if now is not None:
        audit_time, skew = parse_instant("now", now), None
    else:
        with session_scope() as session:
            check = check_clock(session, machine_now=pendulum.now("UTC"), policy=settings.audit,
                                timezone=settings.timezone)
        audit_time, skew = check.audit_time, check.skew_seconds
        if not check.trusted_machine:
            typer.echo(f"警告：服务器时钟与数据库相差 {skew:.0f} 秒，已改用数据库时间 | "
                       f"warning: clock skew {skew:.0f}s, audited by the database's time", err=True)
    counts = audit_due(now=audit_time, policy=settings.audit, timezone=settings.timezone)
    with session_scope() as session:
        paths = write_day_workbooks(session, day=local_date(audit_time, settings.timezone),
                                    folder=settings.audit_dir, timezone=settings.timezone)
    report = {
        "audit_time": local_iso(audit_time), "clock_skew_seconds": skew,
        "checked": counts["checked"], "about_to_expire": counts["about_to_expire"],
        "overdue": counts["overdue"], "queued": counts["queued"],
        "workbooks": {stage: str(path) for stage, path in paths.items()},
    }
    if as_json:
        echo_json(report)
        return
    typer.echo(f"稽核时间 {report['audit_time']}：检查 {report['checked']} 个期限，"
               f"即将超期 {report['about_to_expire']}，已超期 {report['overdue']}，"
               f"新排队提醒 {report['queued']} 条")
    for path in paths.values():
        typer.echo(f"  统计表 {path}")
