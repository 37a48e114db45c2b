"""gridline org import / gridline customers import: a centre's own organisation and customers."""

import sys
from pathlib import Path

import pendulum
import typer

from models.org.org_file import KIND_NAMES
from tasks.core.db import session_scope
from tasks.org.customer_import import import_customers
from tasks.org.org_import import OrgReport, import_org, read_org_tables

org_app = typer.Typer(help="The organisation: units, departments, staff.", no_args_is_help=True)
customers_app = typer.Typer(help="Customers of the supply company.", no_args_is_help=True)
FILES = typer.Argument(..., exists=True, dir_okay=False, metavar="FILE...",
                       help="one xlsx (sheets 单位/部门/人员), one YAML, or csv files (one kind each)")


@org_app.command("import")
def import_org_file(paths: list[Path] = FILES,
                    dry_run: bool = typer.Option(False, "--dry-run",
                                                 help="say what would change, write nothing")) -> None:
    """Upsert units, departments and staff by code; staff absent from the file are deactivated.
    With any bad row nothing is written (exit 1)."""
    tables = read_org_tables(paths)
    with session_scope() as session:
        report = import_org(session, tables, now=pendulum.now("UTC"), dry_run=dry_run)
    _print_org(report)
    if report.problems:
        sys.exit(1)


def _print_org(report: OrgReport) -> None:
    if report.problems:
        typer.echo(f"文件有 {len(report.problems)} 处错误，未写入任何数据 | "
                   f"{len(report.problems)} bad row(s), nothing written:", err=True)
        for problem in report.problems:
            typer.echo(f"  {problem}", err=True)
        return
    for warning in report.warnings:
        typer.echo(f"警告：{warning} | warning", err=True)
    dry, verb = ("（演练，未写入）", "将") if report.dry_run else ("", "已")
    for kind, english in KIND_NAMES.items():
        created, changed = report.created[kind], report.changed[kind]
        typer.echo(f"{kind}：{dry}{verb}新增 {len(created)}，{verb}更新 {len(changed)} | "
                   f"{english}: created {len(created)}, changed {len(changed)}")
        for label, codes in (("新增 created", created), ("更新 changed", changed)):
            if codes:
                typer.echo(f"  {label}: {', '.join(codes)}")
    typer.echo(f"人员：{dry}{verb}停用 {len(report.deactivated)} | staff deactivated "
               f"{len(report.deactivated)}" + (f": {', '.join(report.deactivated)}"
                                                if report.deactivated else ""))
    if report.links_sent:
        said = "将发送" if report.dry_run else "已排队发送"
        typer.echo(f"设置密码链接（短信/邮件）{said}：{', '.join(report.links_sent)} | "
                   f"password set-up links {'to queue' if report.dry_run else 'queued'}")
    if report.unchanged:
        typer.echo("没有任何变化 | nothing changed")


@customers_app.command("import")
def import_customers_file(
        path: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="FILE"),
        batch_size: int = typer.Option(5000, min=1, help="rows written per statement batch")) -> None:
    """Upsert customers by account number (户号). The whole file is checked first; with any bad
    row nothing is written (exit 1)."""
    with session_scope() as session:
        report = import_customers(session, path, batch_size=batch_size)
    if report.errors:
        typer.echo(f"共 {report.rows} 行，{report.bad} 行有误，未写入任何数据 | rows {report.rows}, "
                   f"{report.bad} bad, nothing written:", err=True)
        for row, reason in report.errors:
            typer.echo(f"  第 {row} 行 row {row}: {reason}", err=True)
        if report.bad > len(report.errors):
            typer.echo(f"  …… 另有 {report.bad - len(report.errors)} 行有误 | and more", err=True)
        sys.exit(1)
    typer.echo(f"共 {report.rows} 行：新增 {report.created}，更新 {report.updated}，"
               f"未变 {report.unchanged} | rows {report.rows}, created {report.created}, "
               f"updated {report.updated}, unchanged {report.unchanged}")
