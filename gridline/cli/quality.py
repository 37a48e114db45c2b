"""gridline quality: draw a plan's sample (the scheduled deployment does it; this runs the same
use case once, by hand), and indicator appeals (file, list, decide). A lapsed appeal window is the
engine's `case-lapses`."""

from datetime import date

import pendulum
import typer

from gridline.cli.common import echo_json, local_iso, staff_scope
from models.core.errors import InputError
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.quality import indicator_appeals
from tasks.quality.files import plan, plans
from tasks.quality.sampling import draw_due, draw_period

app = typer.Typer(help="Service quality inspection (质检).", no_args_is_help=True)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError("period", "日期格式无效，应为 YYYY-MM-DD", f"not a date: {text!r}") from None


@app.command()
def draw(plan_key: str | None = typer.Option(None, "--plan", help="one plan; default every plan"),
         period: str | None = typer.Option(None, help="a day of the period to draw (YYYY-MM-DD); "
                                                      "default each plan's last whole period"),
         seed: int | None = typer.Option(None, help="draw with this seed (default random; stored either way)"),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Draw the period's sample and deal it to the inspectors' queues (once per period)."""
    settings, now = get_settings(), pendulum.now("UTC")
    try:
        chosen = {plan_key: plan(plan_key)} if plan_key else plans()
    except LookupError:
        raise InputError("plan", "没有这个质检计划", f"no plan {plan_key!r}") from None
    with session_scope() as session:
        if period is not None:
            day = _day(period)
            drawn = {k: draw_period(session, p, day, now=now, timezone=settings.timezone,
                                    seed=seed) for k, p in chosen.items()}
        else:
            drawn = draw_due(session, chosen, now.in_timezone(settings.timezone).date(), now=now,
                             timezone=settings.timezone)
        report = {k: {"period_start": str(d.sample.period_start), "seed": d.sample.seed,
                      "inspections": d.inspections, "new": d.new} for k, d in drawn.items()}
    if as_json:
        echo_json(report)
        return
    for key, row in report.items():
        typer.echo(f"质检计划 {key}：{row['period_start']} 起的周期抽取 {row['inspections']} 件"
                   f"（随机种子 {row['seed']}{'' if row['new'] else '，此前已抽取'}）")


appeals_app = typer.Typer(help="Indicator appeals (指标申诉): file, list, decide.",
                          no_args_is_help=True)
app.add_typer(appeals_app, name="indicator-appeal")



def _row(appeal) -> dict:
    return {"id": appeal.id, "indicator": appeal.indicator, "month": f"{appeal.period_start:%Y-%m}",
            "unit": appeal.region.name, "tickets": [t.number for t in appeal.tickets],
            "figure": appeal.figure, "corrected": appeal.corrected, "state": appeal.state,
            "department": appeal.department.name, "due_at": local_iso(appeal.due_at),
            "filed_by": appeal.filed_by.code, "opinion": appeal.opinion}


@appeals_app.command("file")
def file_indicator_appeal(
        by: str = typer.Option(..., "--by", help="staff code of the one appealing (their unit's figure)"),
        indicator: str = typer.Option(..., help="indicator key, e.g. on_time_rate"),
        month: str = typer.Option(..., help="the month of the figure, YYYY-MM"),
        tickets: str = typer.Option(..., help="the ticket numbers contested, comma-separated"),
        reason: str = typer.Option(..., help="申诉理由"),
        as_json: bool = typer.Option(False, "--json")) -> None:
    """File an appeal against a month's figure; the rule table routes it."""
    settings = get_settings()
    with session_scope() as session:
        scope = staff_scope(session, by)
        appeal = indicator_appeals.file_appeal(session, scope.staff, indicator, indicator_appeals.parse_month(month),
                                               tickets, reason, now=pendulum.now("UTC"),
                                               timezone=settings.timezone)
        row = _row(appeal)
    if as_json:
        echo_json(row)
        return
    typer.echo(f"指标申诉 {row['id']} 已提交：{row['department']}受理，"
               f"办理期限 {row['due_at']}；当前指标值 {row['figure']}")


@appeals_app.command("list")
def list_indicator_appeals(
        by: str = typer.Option(..., "--by", help="staff code: what they filed, decide or supervise"),
        pending: bool = typer.Option(False, help="only those not decided yet"),
        as_json: bool = typer.Option(False, "--json")) -> None:
    """The indicator appeals the staff member sees, undecided first."""
    with session_scope() as session:
        scope = staff_scope(session, by)
        rows = [_row(a) for a in
                indicator_appeals.list_appeals(session, scope.staff, pending_only=pending)]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['id']}\t{row['indicator']}\t{row['month']}\t{row['unit']}\t"
                   f"{row['state']}\t{row['figure']}→{row['corrected'] or '—'}\t{row['due_at']}")


@appeals_app.command("decide")
def decide_indicator_appeal(
        appeal_id: int = typer.Argument(..., help="the appeal's number"),
        by: str = typer.Option(..., "--by", help="staff code in the department it was routed to"),
        upheld: bool = typer.Option(..., "--upheld/--rejected", help="申诉成立 / 不成立"),
        opinion: str = typer.Option(..., help="处理意见"),
        as_json: bool = typer.Option(False, "--json")) -> None:
    """Decide an appeal once: upheld takes its tickets out of the indicator's figures."""
    settings = get_settings()
    with session_scope() as session:
        scope = staff_scope(session, by)
        try:
            appeal = indicator_appeals.get_appeal(session, scope.staff, appeal_id)
        except LookupError:
            raise InputError("appeal", "没有这个指标申诉", f"no appeal {appeal_id}") from None
        appeal = indicator_appeals.decide(session, scope.staff, appeal, upheld, opinion,
                                          now=pendulum.now("UTC"), timezone=settings.timezone)
        row = _row(appeal)
    if as_json:
        echo_json(row)
        return
    typer.echo(f"指标申诉 {row['id']}：{row['state']}" +
               (f"，指标值 {row['figure']} 更正为 {row['corrected']}" if row["corrected"] else ""))
