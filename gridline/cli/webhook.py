"""gridline webhook: subscriptions of the centre's other systems to its events (docs/api.md),
as the portal's Webhook 订阅 page keeps them, for an integrator's scripts. The signing secret is
printed once, when the subscription is made."""

import pendulum
import typer

from gridline.cli.common import echo_json, local_iso
from models.integrations.tables import EVENTS
from tasks.core.db import session_scope
from tasks.integrations.webhooks import add_subscription, set_active, subscriptions

app = typer.Typer(help="Webhook subscriptions.", no_args_is_help=True)
EVENT_HELP = f"repeatable: {', '.join(EVENTS)}"


@app.command()
def add(name: str = typer.Argument(..., help="the receiving system, e.g. crm"),
        url: str = typer.Option(..., help="http(s) address the events are POSTed to"),
        event: list[str] = typer.Option(..., "--event", help=EVENT_HELP)):
    """Subscribe; the secret that signs every delivery is shown now and never again."""
    with session_scope() as session:
        made = add_subscription(session, name=name, url=url, events=event,
                                now=pendulum.now("UTC"))
        typer.echo(f"已创建订阅 {made.name}（编号 {made.id}，事件 {' '.join(made.events)}）| "
                   "subscription created; its signing secret is shown only once:")
        typer.echo(made.secret)


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json")):
    """Every subscription: name, address, events, active or not (never the secret)."""
    with session_scope() as session:
        rows = [{"id": s.id, "name": s.name, "url": s.url, "events": s.events,
                 "active": s.active, "created_at": local_iso(s.created_at)}
                for s in subscriptions(session)]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        state = "启用 active" if row["active"] else "停用 disabled"
        typer.echo(f"{row['id']:>4}  {row['name']:<24} {row['url']:<48} "
                   f"{' '.join(row['events']):<40} {state}")


def _switch(subscription_id: int, active: bool) -> None:
    with session_scope() as session:
        found = set_active(session, subscription_id, active)
        typer.echo(f"订阅 {found.name} 已{'启用' if active else '停用'} | "
                   f"{found.name} {'enabled' if active else 'disabled'}")


@app.command()
def disable(subscription_id: int = typer.Argument(..., help="the subscription's number")):
    """Send it no new events; deliveries already queued still go out."""
    _switch(subscription_id, False)


@app.command()
def enable(subscription_id: int = typer.Argument(..., help="the subscription's number")):
    """Send it events again, from now on."""
    _switch(subscription_id, True)
