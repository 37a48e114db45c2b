"""gridline quality: draw a plan's sample (the scheduled deployment does it; this runs the same
use case once, by hand). A lapsed appeal window is the engine's `case-lapses`."""

from datetime import date

import pendulum
import typer

from gridline.cli.common import echo_json
from models.core.errors import InputError
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
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
