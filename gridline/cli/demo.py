"""gridline demo: load a believable centre to try Gridline on."""

from datetime import timedelta

import httpx
import pendulum
import typer
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from sqlalchemy import select

from flows.cases import run_case
from flows.lifecycle import start_lifecycle, wants_run
from flows.workforce import workforce_config
from gridline.cli.common import echo_json
from models.cases.case import CLOSED, Case
from models.core.enums import OPEN_STATUSES
from models.tickets.ticket import Ticket
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.demo.seed import already_seeded, seed_demo
from tasks.demo.workforce import demo_workforce
from tasks.tickets.calendar_store import centre_calendar
from tasks.tickets.rule_store import ensure_default_rules, load_rules

app = typer.Typer(help="Demo data.", no_args_is_help=True)
STAGGER = timedelta(seconds=2)  # runs start a little apart: a worker does not start 70 at once


def seed_if_empty(tickets: int = 140, start: bool | None = None,
                  workforce: bool = False) -> dict | None:
    """Load the demo into an empty database (with `workforce`, this week's staffing plan and
    roster for the wallboard); with a Prefect API, start each open ticket's run, which
    recognises the steps recorded and waits where the ticket stands."""
    now, settings = pendulum.now("UTC"), get_settings()
    with session_scope() as session:
        if already_seeded(session):
            return None
        ensure_default_rules(session)
        counts = seed_demo(session, now=now, calendar=centre_calendar(session),
                           rules=load_rules(session), tickets=tickets,
                           password=settings.portal.demo_password)
        if workforce:
            counts |= demo_workforce(session, now=now, config=workforce_config(),
                                     timezone=settings.timezone)
    counts["runs"] = start_runs() + start_case_runs() if wants_run(start) else 0
    return counts


def start_runs() -> int:
    """Start the run of every open ticket that has none, a little apart, oldest first. Each start
    is committed on its own, so a Prefect server that stops answering (a busy SQLite server says
    503, after the client's own retries) loses no run already started; the rest are reported."""
    start = pendulum.now("UTC")
    with session_scope() as session:
        waiting = session.scalars(select(Ticket.id).where(
            Ticket.status.in_(OPEN_STATUSES), Ticket.flow_run_id.is_(None))
            .order_by(Ticket.received_at, Ticket.id)).all()
    started, given_up = 0, []
    for i, ticket_id in enumerate(waiting):
        try:
            with session_scope() as session:
                ticket = session.get(Ticket, ticket_id)
                ticket.flow_run_id = start_lifecycle(session, ticket, at=start + STAGGER * i)
            started += 1
        except (PrefectHTTPStatusError, httpx.HTTPError, ObjectNotFound) as exc:  # not deployed
            given_up.append(f"{ticket_id}: {exc}")
    if given_up:
        typer.echo(f"警告：{len(given_up)} 张演示工单的流程未能启动 | {len(given_up)} demo runs not "
                   f"started (Prefect did not answer), e.g. ticket id {given_up[0]}", err=True)
    return started


def start_case_runs() -> int:
    """Start the run of every open case the demo opened (its failed quality result's appeal);
    one that does not start is the reconciler's."""
    with session_scope() as session:
        waiting = session.scalars(select(Case.number).where(
            Case.status != CLOSED, Case.flow_run_id.is_(None)).order_by(Case.id)).all()
    return sum(run_case(number) is not None for number in waiting)


def summary(counts: dict) -> str:
    """What was loaded, and the callers to try intake with."""
    lines = ["已载入演示数据 | demo loaded: " + ", ".join(
        f"{k}={v}" for k, v in counts.items() if k != "callers")]
    lines += ["可用于受理来电的演示客户 | demo callers to try intake with:"]
    lines += [f"  {c['phone']}  {c['name']}  {c['region']}" for c in counts["callers"]]
    return "\n".join(lines)


@app.command()
def seed(tickets: int = typer.Option(140, min=0, help="how many tickets"),
         start: bool | None = typer.Option(None, "--start/--no-start",
                                           help="start the open tickets' runs "
                                                "(default: when PREFECT_API_URL is set)"),
         workforce: bool = typer.Option(False, "--workforce/--no-workforce",
                                        help="and this week's staffing plan and roster, for the "
                                             "wallboard (gridline up does)"),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """One province, three cities with counties, departments, staff, customers and tickets at
    every stage; with PREFECT_API_URL set, each open ticket's lifecycle run is started."""
    counts = seed_if_empty(tickets, start, workforce)
    if counts is None:
        typer.echo("数据库已有组织数据，未重复载入 | already seeded, nothing loaded")
        return
    if as_json:
        echo_json(counts)
    else:
        typer.echo(summary(counts))
