"""Dashboard latency over a year of tickets: the 运营统计 page and its drill-down against the bare
indicator SQL of the same figures, in the same run.

    .venv/bin/python bench/dashboard_bench.py [--tickets 1000000] [--rounds 3]
        [--keep bench.db | --database-url postgresql+psycopg://... [--reuse]] [--no-report]
        [--no-rollup]

Builds a database (a fresh SQLite file unless --database-url names an empty one; bulk INSERTs,
COPY on PostgreSQL): the demo centre's organisation, then `tickets` tickets spread over the past
year, each with a reply clock (met or not), a department step (done) and, for a third, a
callback; fault tickets on one of 3,000 lines; and one call record per ticket. Then, per
indicator, p50/p95 over every drill level (province, city, county, department) and period picker
(今日, 昨日, 本周, 本月) of the page (HTTP, the portal app in process), of Statistics.figures
(what the page computes, the past days from the daily rollup) and of the bare grouped fact SQL
(every day scanned live), taken in one loop, and page/bare at p95. First rolls the year up as the
hourly flow does (timed), unless --no-rollup. Times the province's daily report too.
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from enum import Enum
from functools import partial
from pathlib import Path

import pendulum
from sqlalchemy import func, insert, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient  # noqa: E402

from gridline.web.app import create_app  # noqa: E402
from models.core.enums import AreaKind, Channel, DepartmentKind, StepStatus, TicketType  # noqa: E402
from models.org.organisation import Department, Region, Staff  # noqa: E402
from models.statistics.rollup import RollupDay  # noqa: E402
from models.tickets.ticket import Step, Ticket, TicketClock  # noqa: E402
from models.workforce.tables import CallRecord  # noqa: E402
from tasks.core.db import session_scope, upgrade_schema  # noqa: E402
from tasks.core.settings import get_settings  # noqa: E402
from tasks.demo.seed import seed_demo  # noqa: E402
from tasks.statistics.aggregations import indicators  # noqa: E402
from tasks.statistics.figures import Statistics, Unit, local_period  # noqa: E402
from tasks.statistics.reports import reports, to_pdf, write_scope  # noqa: E402
from tasks.statistics.rollup import days_to_roll, roll_day  # noqa: E402
from tasks.tickets.calendar_store import load_work_calendar  # noqa: E402
from tasks.tickets.rule_store import ensure_default_rules, load_rules  # noqa: E402

PASSWORD = "bench-password"


def build(url: str, tickets: int, rng: random.Random) -> None:
    upgrade_schema(url)
    now = pendulum.now("UTC")
    with session_scope(url) as session:
        ensure_default_rules(session)
        seed_demo(session, now=now, calendar=load_work_calendar(session, "Asia/Shanghai"),
                  rules=load_rules(session), customers=10, tickets=0, password=PASSWORD)
        departments = session.execute(select(Department.id, Department.region_id).where(
            Department.kind != DepartmentKind.service_centre)).all()
        centre = session.scalar(select(Department.id).where(
            Department.kind == DepartmentKind.service_centre).order_by(Department.id))
        first = (session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)) or 0) + 1
    types, channels, batch = list(TicketType), list(Channel), 20000
    for start in range(0, tickets, batch):
        rows = {Ticket: [], Step: [], TicketClock: [], CallRecord: []}
        for i in range(start, min(start + batch, tickets)):
            tid = first + i
            department_id, region_id = rng.choice(departments)
            received = now - timedelta(minutes=rng.randint(10, 365 * 24 * 60))
            done = received + timedelta(minutes=rng.randint(5, 3 * 24 * 60))
            due = received + timedelta(hours=rng.choice((24, 48, 96)))
            kind = rng.choice(types)
            rows[Ticket].append(dict(
                id=tid, number=f"D{tid:013d}", type=kind, channel=rng.choice(channels),
                content="压测", caller_name="压测", caller_phone="13800000000",
                address=f"压测路{rng.randint(1, 50000)}号", region_id=region_id,
                line=f"10kV压测{rng.randint(1, 3000)}线" if kind == TicketType.fault_repair else None,
                area_kind=AreaKind.urban, received_at=received, rule_version="bench"))
            rows[Step].append(dict(ticket_id=tid, step_key="handle", attempt=1,
                                   department_id=department_id, status=StepStatus.done,
                                   opened_at=received, completed_at=done))
            if i % 3 == 0:
                rows[Step].append(dict(ticket_id=tid, step_key="callback", attempt=1,
                                       department_id=centre, status=StepStatus.done,
                                       opened_at=done, completed_at=done + timedelta(minutes=7)))
            rows[TicketClock].append(dict(ticket_id=tid, clock="reply", label="处理答复",
                                          due_at=due, warn_minutes=240,
                                          met_at=done if done < now else None,
                                          next_check_at=None if done < now
                                          else due - timedelta(minutes=240)))
            rows[CallRecord].append(dict(call_id=f"D{tid}", offered_at=received, group="居民",
                                         answered=rng.random() < 0.9, wait_s=rng.expovariate(1 / 15),
                                         talk_s=180, wrap_s=30))
        with session_scope(url) as session:
            for model, values in rows.items():
                write_rows(session, model, values)
        print(f"  {min(start + batch, tickets):,} tickets", file=sys.stderr, flush=True)
    with session_scope(url) as session:
        session.execute(text("ANALYZE"))  # planner statistics, as a running centre has them


def write_rows(session, model, values: list[dict]) -> None:
    """Bulk insert past the ORM (its per-row events and bookkeeping cost more than SQLite's
    insert); on PostgreSQL through COPY (several times faster than multi-row INSERTs)."""
    if session.bind.dialect.name != "postgresql":
        session.connection().execute(insert(model.__table__), values)
        return
    # COPY applies no Python-side column default (status, urgency, ...): add them here.
    defaults = {c.name: c.default.arg for c in model.__table__.columns
                if c.name not in values[0] and c.default is not None and c.default.is_scalar}
    values = [row | defaults for row in values]
    columns = list(values[0])
    raw = session.connection().connection.driver_connection
    names = ', '.join(f'"{c}"' for c in columns)  # "group" is a keyword
    with raw.cursor().copy(f"COPY {model.__tablename__} ({names}) FROM STDIN") as copy:
        for row in values:
            copy.write_row([v.value if isinstance(v, Enum) else v for v in row.values()])


def pcts(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def timed(fn, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def periods(today) -> dict[str, tuple]:
    """The dashboard's period pickers (今日, 昨日, 本周, 本月), as the page computes them, and the
    whole last month (the 指标报告's period; early in a month 本月 is a day or two)."""
    yesterday = today - timedelta(days=1)
    last_month_end = today.replace(day=1) - timedelta(days=1)
    return {"today": (today, today), "yesterday": (yesterday, yesterday),
            "week": (today - timedelta(days=today.weekday()), today),
            "month": (today.replace(day=1), today),
            "last month": (last_month_end.replace(day=1), last_month_end)}


def bare_sql(stats: Statistics, indicator, period, unit: Unit):
    """The indicator's facts for the period, all scanned live, grouped as the figures group."""
    fact, where = stats._facts(indicator, period, unit, None)
    return (select(fact.c.region_id, fact.c.department_id, fact.c.dim, func.sum(fact.c.num),
                   func.sum(fact.c.den)).where(*where)
            .group_by(fact.c.region_id, fact.c.department_id, fact.c.dim))


def roll_up(url: str, now) -> None:
    """Every closed day, each in its own transaction, as flows/statistics_rollup.py does."""
    started = time.perf_counter()
    with session_scope(url) as session:
        days = days_to_roll(session, now=now, timezone="Asia/Shanghai")
    for day in days:
        with session_scope(url) as session:
            roll_day(session, day, now=now, timezone="Asia/Shanghai")
    seconds = time.perf_counter() - started
    print(f"rolled {len(days)} days up in {seconds:.0f} s ({seconds / max(1, len(days)):.2f} s a day)")


def measure(client, url: str, admin_id: int, key: str, units: dict[str, Unit], spans: dict,
            now, rounds: int) -> tuple[list[float], list[float], list[float]]:
    """(page, figures, bare SQL) timings of one indicator over every drill level and period
    picker, `rounds` of each, taken in the same loop so load hits the three alike."""
    indicator = indicators().get(key)
    page, figures, bare = [], [], []
    with session_scope(url) as session:
        stats = Statistics(session, session.get(Staff, admin_id))
        for unit in units.values():
            for first, last in spans.values():
                period = local_period(first, last, "Asia/Shanghai", now)
                path = f"/dashboard?indicator={key}&unit={unit.code}&start={first}&end={last}"
                client.get(path).raise_for_status()  # warm: compiled statements, caches
                grouped = bare_sql(stats, indicator, period, unit)
                for _ in range(rounds):
                    page += timed(partial(client.get, path), 1)
                    figures += timed(partial(stats.figures, indicator, period, unit), 1)
                    bare += timed(partial(lambda q: session.execute(q).all(), grouped), 1)
    return page, figures, bare


def daily_report(url: str, admin_id: int, day, now, folder: Path) -> None:
    """The province's 日报 as the scheduled flow writes it: workbook and PDF."""
    started = time.perf_counter()
    with session_scope(url) as session:
        stats = Statistics(session, session.get(Staff, admin_id))
        workbook, _ = write_scope(stats, reports().get("daily"), day, day, folder / "reports",
                                  now, "Asia/Shanghai")
    figures_s = time.perf_counter() - started
    to_pdf(workbook)
    print(f"province daily report: figures and workbook {figures_s:.1f} s, "
          f"with the PDF {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url")
    parser.add_argument("--indicators",
                        default="ticket_volume,on_time_rate,step_handling,repeat_faults")
    parser.add_argument("--keep", help="a SQLite file: built if missing, else reused")
    parser.add_argument("--reuse", action="store_true", help="--database-url is built already")
    parser.add_argument("--no-report", action="store_true", help="skip the daily report's run")
    parser.add_argument("--no-rollup", action="store_true",
                        help="every day live, as before the rollup (the page's own queries)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gridline-dashboard-bench-"))
    url = args.database_url or f"sqlite:///{args.keep or folder / 'bench.db'}"
    os.environ["GRIDLINE_DATABASE_URL"], os.environ["GRIDLINE_VAR_DIR"] = url, str(folder / "var")
    if not (args.reuse or (args.keep and Path(args.keep).exists())):
        started = time.perf_counter()
        build(url, args.tickets, random.Random(19))
        print(f"built {args.tickets:,} tickets in {time.perf_counter() - started:.0f} s")
    now = pendulum.now("UTC")
    today = now.in_timezone("Asia/Shanghai").date()
    if args.no_rollup:
        with session_scope(url) as session:
            session.execute(update(RollupDay).values(stale=True))
    else:
        roll_up(url, now)
    with session_scope(url) as session:
        admin = session.scalar(select(Staff).join(Department).join(Region).where(
            Region.parent_id.is_(None), Staff.role == "admin"))
        province = admin.department.region_id
        city = session.scalar(select(Region.id).where(Region.parent_id == province))
        county = session.scalar(select(Region.id).where(Region.parent_id == city))
        department = session.scalar(select(Department.id).where(
            Department.kind != DepartmentKind.service_centre, Department.region_id == county))
        code = admin.code
    units = {"province": Unit(province), "city": Unit(city), "county": Unit(county),
             "department": Unit(county, department)}
    client = TestClient(create_app(get_settings()))
    token = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/login", data={"code": code, "password": PASSWORD, "csrf": token},
                       follow_redirects=False).status_code == 303
    print(f"{url.split(':')[0]}, {args.tickets:,} tickets; p50/p95 over {', '.join(units)} x "
          f"{', '.join(periods(today))}, {args.rounds} rounds each")
    print(f"{'indicator':<16}{'page p50/p95':>16}{'figures p50/p95':>18}{'bare p50/p95':>16}"
          f"{'page/bare p95':>15}")
    for key in args.indicators.split(","):
        page, figures, bare = measure(client, url, admin.id, key, units, periods(today), now,
                                      args.rounds)
        (p50, p95), (f50, f95), (b50, b95) = pcts(page), pcts(figures), pcts(bare)
        print(f"{key:<16}{p50:>7.0f}/{p95:<6.0f}ms{f50:>9.0f}/{f95:<6.0f}ms{b50:>7.0f}/{b95:<6.0f}ms"
              f"{p95 / b95:>12.2f}x", flush=True)
    if not args.no_report:
        daily_report(url, admin.id, today - timedelta(days=1), now, folder)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
