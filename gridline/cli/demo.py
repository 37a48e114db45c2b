"""gridline demo: load a believable centre to try Gridline on."""

import pendulum
import typer

from gridline.cli.common import echo_json
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.demo.seed import already_seeded, seed_demo
from tasks.tickets.calendar_store import centre_calendar
from tasks.tickets.rule_store import ensure_default_rules, load_rules

app = typer.Typer(help="Demo data.", no_args_is_help=True)


def seed_if_empty() -> dict | None:
    with session_scope() as session:
        if already_seeded(session):
            return None
        ensure_default_rules(session)
        return seed_demo(session, now=pendulum.now("UTC"), calendar=centre_calendar(session),
                         rules=load_rules(session), password=get_settings().portal.demo_password)


@app.command()
def seed(as_json: bool = typer.Option(False, "--json")) -> None:
    """One province, three cities with counties, departments, staff, customers and tickets."""
    counts = seed_if_empty()
    if counts is None:
        typer.echo("数据库已有组织数据，未重复载入 | already seeded, nothing loaded")
        return
    if as_json:
        echo_json(counts)
    else:
        typer.echo("已载入演示数据 | demo loaded: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
