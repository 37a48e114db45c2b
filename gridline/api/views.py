"""What the API answers with: tickets (a summary, or whole with clocks, steps and timeline) and
customers and outages, as JSON-ready dicts. Callers' and customers' phones are masked, as on the portal."""

from datetime import datetime
from typing import Any

from flows.lifecycle import lifecycles
from models.core.formatting import mask_phone, utc_iso
from models.org.customer import Customer
from models.outages.outage import Outage, shown_status
from models.tickets.ticket import Ticket


def ticket_summary(ticket: Ticket) -> dict[str, Any]:
    return {
        "number": ticket.number, "type": ticket.type.value, "subtype": ticket.subtype,
        "channel": ticket.channel.value, "urgency": ticket.urgency.value,
        "status": ticket.status.value, "status_label": ticket.status.label,
        "region": ticket.region.code, "caller_phone": mask_phone(ticket.caller_phone),
        "received_at": utc_iso(ticket.received_at), "closed_at": utc_iso(ticket.closed_at),
        "url": f"/api/v1/tickets/{ticket.number}",
    }


def step_titles() -> dict[tuple, str]:
    return {(ticket_type, step.key): step.title
            for ticket_type, spec in lifecycles().items() for step in spec.steps}


def ticket_detail(ticket: Ticket, titles: dict[tuple, str]) -> dict[str, Any]:
    return {
        **ticket_summary(ticket),
        "content": ticket.content, "caller_name": ticket.caller_name, "address": ticket.address,
        "line": ticket.line,
        "customer": ticket.customer.account_no if ticket.customer else None,
        "clocks": [{"clock": c.clock, "label": c.label, "due_at": utc_iso(c.due_at),
                    "met_at": utc_iso(c.met_at)} for c in ticket.clocks],
        "steps": [{"id": s.id, "key": s.step_key, "attempt": s.attempt,
                   "title": titles.get((ticket.type, s.step_key), s.step_key),
                   "status": s.status.value, "form": s.form,
                   "department": s.department.code if s.department else None,
                   "opened_at": utc_iso(s.opened_at), "due_at": utc_iso(s.due_at),
                   "completed_at": utc_iso(s.completed_at),
                   "completed_by": s.completed_by.code if s.completed_by else None,
                   "outcome": (s.form_data or {}).get("result")} for s in ticket.steps],
        "timeline": [{"at": utc_iso(e.at), "kind": e.kind, "actor": e.actor, "message": e.message}
                     for e in ticket.events if e.kind != "phone_revealed"],
    }


def customer_view(customer: Customer) -> dict[str, Any]:
    return {"account_no": customer.account_no, "name": customer.name,
            "phone": mask_phone(customer.phone), "address": customer.address,
            "region": customer.region.code, "area_kind": customer.area_kind.value}


def outage_view(outage: Outage, now: datetime) -> dict[str, Any]:
    status = shown_status(outage, now)
    return {"number": outage.number, "kind": outage.kind.value, "kind_label": outage.kind.label,
            "status": status.value, "status_label": status.label,
            "area": [a.region.code for a in outage.areas], "lines": list(outage.lines),
            "start_at": utc_iso(outage.start_at), "restore_at": utc_iso(outage.restore_at),
            "reason": outage.reason}
