"""The portal on a real uvicorn server on loopback, a demo centre to log into, and HTTP helpers."""

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import httpx
import pendulum
import uvicorn
from sqlalchemy import delete, select, update

from flows.lifecycle import lifecycles
from gridline.local_postgres import free_port
from gridline.web.app import create_app
from models.core.enums import DepartmentKind, StaffRole, StepStatus, TicketType
from models.messaging.outbox import OutboxMessage
from models.org.organisation import Department, Region, Staff
from models.tickets.lifecycle import StepKind
from models.tickets.ticket import Step, Ticket, TicketClock
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.demo.seed import seed_demo
from tasks.tickets.calendar_store import load_work_calendar
from tasks.tickets.rule_store import load_rules

PASSWORD = "gridline-demo"


def seed_centre(url: str, now: datetime) -> None:
    """The demo centre's organisation and tickets (without their steps and messages), every login with
    PASSWORD, plus a city-level centre in Suzhou (agents, supervisor, admin who must not see other
    cities' tickets)."""
    with session_scope(url) as session:
        seed_demo(session, now=now, calendar=load_work_calendar(session, "Asia/Shanghai"),
                  rules=load_rules(session), customers=60, tickets=30, password=PASSWORD)
        # A clean slate: only the steps and running deadlines each test makes.
        session.execute(delete(Step))
        session.execute(delete(OutboxMessage))  # the seeded receipts
        session.execute(update(TicketClock).values(met_at=now))
        suzhou = session.scalar(select(Region).where(Region.code == "3205"))
        centre = Department(code="D3205-CC", name="苏州95598分中心",
                            kind=DepartmentKind.service_centre, region=suzhou)
        demo_hash = session.scalar(select(Staff.password_hash).where(Staff.code == "S0001"))
        for code, role in [("SZ-A", StaffRole.agent), ("SZ-S", StaffRole.supervisor),
                           ("SZ-ADM", StaffRole.admin)]:
            session.add(Staff(code=code, name=f"苏州{role.label}", role=role, phone="13900000000",
                              department=centre, password_hash=demo_hash))


def open_step(url: str, number: str, department_code: str, *, due_in: timedelta,
              now: datetime, step_key: str | None = None) -> int:
    """A step as the lifecycle opens it (by default the first hand-off of the ticket's type):
    a department's work on a ticket, with its form and due time."""
    with session_scope(url) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        spec = lifecycles(session)[ticket.type]
        step = spec.step(step_key) if step_key else next(
            s for s in spec.steps if s.kind == StepKind.handoff)
        department = session.scalar(select(Department).where(Department.code == department_code))
        row = Step(ticket=ticket, step_key=step.key, department=department, form=step.form,
                   status=StepStatus.open, opened_at=now, due_at=now + due_in)
        session.add(row)
        session.flush()
        return row.id


def a_ticket_in(url: str, region_code: str) -> str:
    """A ticket of the region whose first hand-off goes to a business department."""
    with session_scope(url) as session:
        return session.scalar(select(Ticket.number).join(Ticket.region)
                              .where(Ticket.region.has(code=region_code),
                                     Ticket.type != TicketType.fault_repair)
                              .order_by(Ticket.id).limit(1))


def portal_centre(url: str, tmp_path, monkeypatch, **portal_settings: str) -> str:
    """The seeded centre a portal test serves, with its own var/ and GRIDLINE_PORTAL__ settings."""
    monkeypatch.setenv("GRIDLINE_VAR_DIR", str(tmp_path / "var"))
    for name, value in portal_settings.items():
        monkeypatch.setenv(f"GRIDLINE_PORTAL__{name}", value)
    seed_centre(url, now_utc())
    return url


def portal_app():
    return create_app(get_settings())


@contextmanager
def serve(app) -> Iterator[str]:
    """Run the app on a free loopback port until the block ends."""
    port = free_port()
    # As `gridline portal` serves it: uvicorn's own X-Forwarded-For handling off.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=2, proxy_headers=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the portal did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def browser(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, follow_redirects=False, timeout=30)


def login(base_url: str, code: str, password: str = PASSWORD) -> httpx.Client:
    client = browser(base_url)
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"code": code, "password": password, "csrf": token})
    assert response.status_code == 303, response.text
    return client


def form_token_of(html: str) -> str:
    """The one-time token of a rendered intake form."""
    return re.search(r'name="form" value="([^"]+)"', html).group(1)


def post_form(client: httpx.Client, path: str, data: dict, page: str | None = None):
    """Post a form the way a browser does: with the CSRF token of the page it came from (and
    the intake form's one-time token, when the page has one)."""
    html = client.get(page or path).text
    once = {"form": form_token_of(html)} if 'name="form"' in html else {}
    return client.post(path, data={**once, **data, "csrf": csrf_of(html)})


def now_utc() -> datetime:
    return pendulum.now("UTC")
