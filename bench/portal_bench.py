"""Portal latency with 100,000 open tickets and 20 concurrent users on loopback.

    .venv/bin/python bench/portal_bench.py [--tickets 100000] [--users 20] [--rounds 25]
                                           [--think 0] [--workers N]
                                           [--database-url postgresql+psycopg://...]

Builds a database (a fresh SQLite file unless --database-url names an empty one), loads the demo
centre and bulk-inserts open tickets, each with a deadline and an open step of a department.
Starts the portal as `gridline up` does (`gridline portal`: uvicorn, GRIDLINE_PORTAL__WORKERS
processes, by default one a core), logs in one handler per department and has every user
alternate inbox and ticket pages: as fast as answers come by default (the harshest reading of
"20 concurrent users"), or with --think seconds between pages.
Prints p50/p95 of each page, with the login page (no database work) as the baseline of the same
run: the ratio says what the database work costs on top of the web stack.
"""

import argparse
import asyncio
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pendulum
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.core.enums import (  # noqa: E402
    AreaKind,
    Channel,
    DepartmentKind,
    StaffRole,
    StepStatus,
    TicketStatus,
    TicketType,
    Urgency,
)
from models.org.organisation import Department, Staff  # noqa: E402
from models.tickets.ticket import Step, Ticket, TicketClock  # noqa: E402
from tasks.core.db import session_scope, upgrade_schema  # noqa: E402
from tasks.core.settings import get_settings  # noqa: E402
from tasks.demo.seed import seed_demo  # noqa: E402
from tasks.tickets.calendar_store import load_work_calendar  # noqa: E402
from tasks.tickets.rule_store import ensure_default_rules, load_rules  # noqa: E402

PASSWORD = "bench-password"


def build(url: str, tickets: int, rng: random.Random) -> list[str]:
    """The demo centre plus `tickets` open tickets; returns one handler login per department."""
    upgrade_schema(url)
    now = pendulum.now("UTC")
    with session_scope(url) as session:
        ensure_default_rules(session)
        seed_demo(session, now=now, calendar=load_work_calendar(session, "Asia/Shanghai"),
                  rules=load_rules(session), password=PASSWORD)
        departments = session.execute(
            select(Department.id, Department.region_id, Department.code)
            .where(Department.kind != DepartmentKind.service_centre)).all()
        handlers = session.scalars(select(Staff.code).where(
            Staff.role == StaffRole.handler, Staff.code.like("%-1"))).all()
        first_id = (session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)) or 0) + 1
    types = list(TicketType)
    batch = 5000
    for start in range(0, tickets, batch):
        ticket_rows, step_rows, clock_rows = [], [], []
        for i in range(start, min(start + batch, tickets)):
            ticket_id = first_id + i
            department_id, region_id, _ = rng.choice(departments)
            received = now - timedelta(minutes=rng.randint(10, 7 * 24 * 60))
            due = now + timedelta(minutes=rng.randint(-2 * 24 * 60, 5 * 24 * 60))
            ticket_rows.append(dict(
                id=ticket_id, number=f"B{ticket_id:013d}", type=rng.choice(types),
                channel=Channel.phone, content="压测工单：客户反映电压不稳，要求尽快处理",
                caller_name="压测客户", caller_phone="13800000000", address="压测地址1号",
                region_id=region_id, area_kind=AreaKind.urban, received_at=received,
                status=TicketStatus.in_progress, urgency=Urgency.normal, rule_version="bench"))
            step_rows.append(dict(ticket_id=ticket_id, step_key="department_reply", attempt=1,
                                  department_id=department_id, status=StepStatus.open,
                                  opened_at=received, due_at=due))
            clock_rows.append(dict(ticket_id=ticket_id, clock="reply", label="处理答复",
                                   due_at=due))
        with session_scope(url) as session:
            session.execute(insert(Ticket), ticket_rows)
            session.execute(insert(Step), step_rows)
            session.execute(insert(TicketClock), clock_rows)
    return list(handlers)


async def log_in(base: str, code: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=60)
    page = await client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    answer = await client.post("/login", data={"code": code, "password": PASSWORD, "csrf": token})
    assert answer.status_code == 303, answer.text[:300]
    await client.get("/inbox")  # warm: the first query of each kind is compiled, pages cached
    return client


async def user(client: httpx.AsyncClient, rounds: int, think: float,
               timings: dict[str, list[float]]) -> None:
    for _ in range(rounds):
        inbox = await timed(client, "/inbox", timings["inbox"])
        await asyncio.sleep(random.uniform(0, 2 * think))
        numbers = re.findall(r'href="/tickets/(\w+)"', inbox.text)
        await timed(client, f"/tickets/{random.choice(numbers)}", timings["ticket"])
        await asyncio.sleep(random.uniform(0, 2 * think))
        await timed(client, "/login", timings["login page (baseline)"])
    await client.aclose()


async def timed(client: httpx.AsyncClient, path: str, into: list[float]) -> httpx.Response:
    started = time.perf_counter()
    response = await client.get(path)
    into.append((time.perf_counter() - started) * 1000)
    assert response.status_code == 200, (path, response.status_code)
    return response


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_of(pid: int) -> float:
    """User + system CPU seconds a process and its live children (uvicorn's workers) have used
    so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return ((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            + sum(cpu_of(int(child)) for child in children))


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--database-url")
    parser.add_argument("--workers", type=int, default=get_settings().portal.workers,
                        help="uvicorn worker processes (default: as `gridline up`, one a core)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a user reads a page before the next (0: none)")
    args = parser.parse_args()
    rng = random.Random(95598)
    workdir = Path(tempfile.mkdtemp(prefix="gridline-portal-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"

    started = time.perf_counter()
    handlers = build(url, args.tickets, rng)
    print(f"built {args.tickets} open tickets in {time.perf_counter() - started:.1f} s "
          f"({url.split(':')[0]})")

    port = free_port()
    env = dict(os.environ, GRIDLINE_DATABASE_URL=url, GRIDLINE_VAR_DIR=str(workdir),
               GRIDLINE_PORTAL__SECRET=secrets.token_urlsafe(32),
               GRIDLINE_PORTAL__HOST="127.0.0.1", GRIDLINE_PORTAL__PORT=str(port),
               GRIDLINE_PORTAL__WORKERS=str(args.workers))
    server = subprocess.Popen([sys.executable, "-m", "gridline.cli", "portal",
                               "--log-level", "warning"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        timings: dict[str, list[float]] = {"inbox": [], "ticket": [],
                                           "login page (baseline)": []}
        users = [handlers[i % len(handlers)] for i in range(args.users)]

        async def everyone() -> tuple[float, float, float]:
            clients = [await log_in(base, code) for code in users]  # argon2: not measured
            started, client_cpu, server_cpu = (time.perf_counter(), time.process_time(),
                                               cpu_of(server.pid))
            await asyncio.gather(*(user(client, args.rounds, args.think, timings)
                                   for client in clients))
            return (time.perf_counter() - started, time.process_time() - client_cpu,
                    cpu_of(server.pid) - server_cpu)

        elapsed, client_cpu, server_cpu = asyncio.run(everyone())
    finally:
        server.terminate()
        server.wait(10)
        if not args.database_url:
            shutil.rmtree(workdir, ignore_errors=True)
    total = sum(len(v) for v in timings.values())
    print(f"CPU during the run: portal {server_cpu:.1f} s ({server_cpu / total * 1000:.1f} ms a "
          f"request), load generator {client_cpu:.1f} s; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work shares them)")
    baseline = statistics.median(timings["login page (baseline)"])
    print(f"{args.users} concurrent users (think time {args.think} s), {args.workers} portal "
          f"worker processes, {total} requests in {elapsed:.1f} s "
          f"({total / elapsed:.0f} requests/s)")
    for name, values in timings.items():
        p50, p95 = statistics.median(values), percentile(values, 95)
        print(f"  {name:24s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
              f"(p50 x{p50 / baseline:.1f} of baseline)  n={len(values)}")
    target = max(percentile(timings["inbox"], 95), percentile(timings["ticket"], 95))
    print(f"target p95 < 200 ms for inbox and ticket pages: {'met' if target < 200 else 'MISSED'}"
          f" ({target:.0f} ms)")


if __name__ == "__main__":
    main()
