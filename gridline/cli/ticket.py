"""gridline ticket: create, show and chase (催办) tickets."""

import pendulum
import typer

from flows.intake import LifecycleNotStarted, open_ticket
from gridline.cli.common import (
    echo_json,
    local_iso,
    parse_instant,
    staff_scope,
    warn_fallback_years,
)
from models.tickets.ticket import Ticket
from tasks.audit.supervision import chase_ticket
from tasks.core.db import session_scope
from tasks.tickets.store import get_ticket

app = typer.Typer(help="Tickets.", no_args_is_help=True)


def ticket_summary(ticket: Ticket) -> dict:
    return {
        "number": ticket.number,
        "type": ticket.type.value,
        "type_label": ticket.type.label,
        "subtype": ticket.subtype,
        "status": ticket.status.value,
        "status_label": ticket.status.label,
        "region": ticket.region.code,
        "area_kind": ticket.area_kind.value,
        "received_at": local_iso(ticket.received_at),
        "rule_version": ticket.rule_version,
        "due": {c.clock: local_iso(c.due_at) for c in ticket.clocks},
    }


@app.command()
def create(
    type: str = typer.Option(
        ..., "--type",
        help="consultation|fault_repair|complaint|report|opinion|suggestion|business"),
    phone: str = typer.Option(..., help="caller's phone"),
    name: str = typer.Option(..., help="caller's name"),
    address: str = typer.Option(...),
    content: str = typer.Option(...),
    region: str | None = typer.Option(None, help="region code; default the customer's"),
    subtype: str | None = typer.Option(None),
    channel: str = typer.Option("phone"),
    urgency: str = typer.Option("normal"),
    received_at: str | None = typer.Option(None, help="ISO 8601 with offset; default now"),
    start: bool | None = typer.Option(
        None, "--start/--no-start",
        help="start the ticket's lifecycle run; default: when PREFECT_API_URL names a server"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Validate and store a ticket, start its lifecycle; print its number and every due time."""
    data = dict(type=type, phone=phone, name=name, address=address, content=content,
                region=region, subtype=subtype, channel=channel, urgency=urgency)
    if received_at is not None:
        data["received_at"] = parse_instant("received_at", received_at)
    try:
        with session_scope() as session:
            ticket, calendar = open_ticket(session, data, now=pendulum.now("UTC"), start=start)
            summary = ticket_summary(ticket)
    except LifecycleNotStarted as exc:
        typer.echo(f"错误：{exc.zh} | error: ticket saved, its lifecycle not started: "
                   f"{exc.cause}", err=True)
        raise typer.Exit(1) from None
    if ticket.flow_run_id:
        summary["flow_run_id"] = ticket.flow_run_id
    warn_fallback_years(calendar)
    if as_json:
        echo_json(summary)
        return
    typer.echo(f"工单号 {summary['number']}  {ticket.type.label}  受理时间 {summary['received_at']}")
    for clock in ticket.clocks:
        typer.echo(f"  {clock.label}（{clock.clock}）期限 {local_iso(clock.due_at)}")
    if summary.get("flow_run_id"):
        typer.echo(f"  流程运行 | flow run {summary['flow_run_id']}")


@app.command()
def show(number: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Print a ticket with its clocks, steps and timeline."""
    with session_scope() as session:
        ticket = get_ticket(session, number)
        summary = ticket_summary(ticket) | {
            "content": ticket.content,
            "caller": {"name": ticket.caller_name, "phone": ticket.caller_phone,
                       "address": ticket.address},
            "flow_run_id": ticket.flow_run_id,
            "steps": [{
                "step": s.step_key, "attempt": s.attempt, "status": s.status.value,
                "department": s.department.name if s.department else None,
                "opened_at": local_iso(s.opened_at),
                "due_at": local_iso(s.due_at) if s.due_at else None,
                "completed_at": local_iso(s.completed_at) if s.completed_at else None,
            } for s in ticket.steps],
            "timeline": [{
                "at": local_iso(e.at), "kind": e.kind, "actor": e.actor, "message": e.message,
            } for e in ticket.events],
        }
    if as_json:
        echo_json(summary)
        return
    typer.echo(f"工单号 {summary['number']}  {summary['type_label']}  状态 {summary['status_label']}")
    typer.echo(f"客户 {summary['caller']['name']}  {summary['caller']['phone']}  "
               f"{summary['caller']['address']}")
    typer.echo(f"内容 {summary['content']}")
    for clock, due in summary["due"].items():
        typer.echo(f"  期限 {clock}: {due}")
    for step in summary["steps"]:
        typer.echo(f"  环节 {step['step']}#{step['attempt']} {step['status']} {step['department'] or ''}")
    typer.echo("时间线：")
    for event in summary["timeline"]:
        typer.echo(f"  {event['at']}  {event['actor']}  {event['message']}")


@app.command()
def chase(
    number: str = typer.Argument(..., help="ticket number"),
    by: str = typer.Option(..., "--by", help="staff code of the supervisor chasing it"),
    note: str = typer.Option("", "--note", help="督办意见, sent with the SMS"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """催办: an SMS through the outbox to whoever answers for the ticket now, in its timeline."""
    with session_scope() as session:
        done = chase_ticket(session, staff_scope(session, by), number, now=pendulum.now("UTC"),
                            note=note)
    if as_json:
        echo_json({"number": done.ticket, "to": done.name, "phone": done.phone,
                   "queued": done.queued})
    elif done.queued:
        typer.echo(f"已催办工单 {done.ticket}：短信已排队发给{done.name}（{done.phone}）| chased")
    else:
        typer.echo(f"工单 {done.ticket} 刚刚已催办过{done.name}，未重复发送 | already chased")
