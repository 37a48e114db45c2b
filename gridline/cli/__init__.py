"""The `gridline` command. Each group lives in its own module; bad input exits 2 with one line."""

import sys

import typer

from gridline.cli import (
    apikey,
    audit,
    calendar,
    db,
    demo,
    imports,
    knowledge,
    lifecycle,
    org,
    outages,
    outbox,
    portal,
    quality,
    rules,
    run,
    step,
    ticket,
    user,
    webhook,
    workforce,
)
from models.core.errors import InputError
from models.tickets.lifecycle import LifecycleFileError
from models.tickets.rules import RuleFileError

app = typer.Typer(help="Gridline: 95598 ticket orchestration on Prefect.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(db.app, name="db")
app.add_typer(demo.app, name="demo")
app.add_typer(ticket.app, name="ticket")
app.add_typer(rules.app, name="rules")
app.add_typer(calendar.app, name="calendar")
app.add_typer(outbox.app, name="outbox")
app.add_typer(outages.app, name="outages")
app.add_typer(step.app, name="step")
app.add_typer(audit.app, name="audit")
app.add_typer(imports.app, name="import")
app.add_typer(lifecycle.app, name="lifecycle")
app.add_typer(knowledge.app, name="knowledge")
app.add_typer(user.app, name="user")
app.add_typer(apikey.app, name="apikey")
app.add_typer(webhook.app, name="webhook")
app.add_typer(quality.app, name="quality")
app.add_typer(org.org_app, name="org")
app.add_typer(org.customers_app, name="customers")
app.command("up")(run.up)
app.command("portal")(portal.portal)
app.add_typer(workforce.calls_app, name="calls")
app.command("forecast")(workforce.forecast)
app.command("staffing")(workforce.staffing)
app.add_typer(workforce.roster_app, name="roster")
app.command("alerts")(workforce.alerts)
app.command("handover")(workforce.handover)


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, prog_name="gridline", standalone_mode=True)
    except InputError as exc:
        print(exc.one_line(), file=sys.stderr)
        sys.exit(2)
    except RuleFileError as exc:
        print(f"错误：规则文件无效（{exc.zh}）| error: bad rule file: {exc}", file=sys.stderr)
        sys.exit(2)
    except LifecycleFileError as exc:
        print(f"错误：流程声明无效 | error: bad lifecycle declaration: {exc}", file=sys.stderr)
        sys.exit(2)
