"""gridline outbox: see what was sent or is waiting, deliver now, give a dead message a retry."""

import pendulum
import typer

from gridline.cli.common import echo_json, local_iso
from models.core.errors import parse_enum
from models.messaging.outbox import OutboxStatus
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.messaging.delivery import deliver_due
from tasks.messaging.gateways import gateways_for
from tasks.messaging.outbox import list_messages
from tasks.messaging.outbox import retry as retry_message

app = typer.Typer(help="Outgoing SMS and e-mail.", no_args_is_help=True)


@app.command("list")
def list_(status: str | None = typer.Option(None, help="queued|sending|sent|failed|dead"),
          limit: int = typer.Option(50, min=1, max=10000),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """The newest messages with their delivery state and text."""
    wanted = parse_enum("status", OutboxStatus, status) if status else None
    with session_scope() as session:
        rows = [{
            "id": m.id, "channel": m.channel.value, "recipient": m.recipient,
            "template": m.template, "status": m.status.value, "attempts": m.attempts,
            "subject": m.subject, "text": m.body_text, "created_at": local_iso(m.created_at),
            "next_attempt_at": local_iso(m.next_attempt_at),
            "sent_at": local_iso(m.sent_at) if m.sent_at else None, "last_error": m.last_error,
        } for m in list_messages(session, status=wanted, limit=limit)]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        typer.echo(f"#{row['id']} [{OutboxStatus(row['status']).label}] {row['channel']} → "
                   f"{row['recipient']}  尝试{row['attempts']}次  {row['text']}")
        if row["last_error"]:
            typer.echo(f"    错误：{row['last_error']}")


@app.command()
def retry(message_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Queue a failed or dead message again, with fresh attempts."""
    with session_scope() as session:
        retry_message(session, message_id, now=pendulum.now("UTC"))
    typer.echo(f"消息 #{message_id} 已重新排队 | queued again")


@app.command()
def deliver(limit: int = typer.Option(500, min=1)) -> None:
    """Deliver the due messages once, now (the deliver-outbox deployment does this every minute)."""
    settings = get_settings()
    counts = deliver_due(gateways=gateways_for(settings.sms, settings.smtp),
                         policy=settings.outbox, timezone=settings.timezone,
                         clock=lambda: pendulum.now("UTC"), limit=limit)
    typer.echo(f"已发送 {counts['sent']} 条，失败 {counts['failed']} 条 | "
               f"sent {counts['sent']}, failed {counts['failed']}")
