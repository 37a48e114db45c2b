"""Deadline audit at scale: one million open tickets, ten thousand of them due.

Times, on SQLite and on PostgreSQL, in the same run:
  * the bare indexed SQL query for the due rows (the baseline),
  * the audit's own selection of the same rows (tasks.audit.chase.due_clocks),
  * the whole audit of the due rows (assess, reminders into the outbox, statistics rows, reschedule)
    plus the day's workbooks.
Prints each figure and the ratio of the selection to the bare query (target: within 1.5x) and the
whole audit's seconds (target: under 10 s).

    .venv/bin/python bench/audit_bench.py [--tickets 1000000] [--due 10000] [--only sqlite]
"""

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import bindparam, insert, text  # noqa: E402

from gridline.local_postgres import LocalPostgres  # noqa: E402
from models import Department, Region, Staff, Step, Ticket, TicketClock  # noqa: E402
from models.audit.assessment import AuditPolicy  # noqa: E402
from models.core.enums import (  # noqa: E402
    AreaKind,
    DepartmentKind,
    RegionLevel,
    StaffRole,
    StepStatus,
    TicketStatus,
    TicketType,
)
from tasks.audit.chase import audit_due, due_clocks  # noqa: E402
from tasks.audit.workbooks import write_day_workbooks  # noqa: E402
from tasks.core.db import engine_for, session_scope, upgrade_schema  # noqa: E402

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
TZ = "Asia/Shanghai"
BARE = text("SELECT c.id, c.ticket_id, c.clock, c.label, c.due_at, c.met_at, c.warn_minutes, "
            "c.next_check_at, t.* FROM ticket_clocks c JOIN tickets t ON t.id = c.ticket_id "
            "WHERE c.next_check_at <= :now AND t.type IN :types "
            "ORDER BY c.next_check_at, c.id LIMIT :limit").bindparams(
    bindparam("types", expanding=True))


def fill(url: str, tickets: int, due: int) -> None:
    upgrade_schema(url)
    with session_scope(url) as session:
        region = Region(code="32", name="江苏省", level=RegionLevel.province, area_kind=AreaKind.urban)
        department = Department(code="D1", name="玄武区供电服务中心", kind=DepartmentKind.marketing,
                                region=region)
        head = Staff(code="H1", name="李强", role=StaffRole.head, phone="13900001111",
                     email="head@example.cn", department=department)
        session.add_all([region, department, head])
        session.flush()
        region_id, department_id = region.id, department.id
    engine = engine_for(url)
    types = list(TicketType)
    received = NOW - timedelta(days=3)
    chunk = 20000
    with engine.begin() as conn:
        for start in range(0, tickets, chunk):
            ids = range(start + 1, min(tickets, start + chunk) + 1)
            conn.execute(insert(Ticket.__table__), [{
                "id": i, "number": f"B{i:09d}", "type": types[i % 7].value, "channel": "phone",
                "content": "电压不稳，家用电器无法使用", "caller_name": "张三",
                "caller_phone": "13812345678", "address": "南京市玄武区中山路1号",
                "region_id": region_id, "area_kind": "urban", "received_at": received,
                "status": TicketStatus.in_progress.value, "urgency": "normal",
                "rule_version": "bench", "source": "gridline"} for i in ids])
            # Every due-th ticket's clock is due now; the rest run far in the future.
            stride = max(1, tickets // due)
            conn.execute(insert(TicketClock.__table__), [{
                "id": i, "ticket_id": i, "clock": "reply", "label": "处理答复",
                "due_at": NOW - timedelta(hours=1) if i % stride == 0 else NOW + timedelta(days=30),
                "warn_minutes": 1440,
                "next_check_at": NOW - timedelta(hours=2) if i % stride == 0 else NOW + timedelta(days=29),
            } for i in ids])
            conn.execute(insert(Step.__table__), [{
                "ticket_id": i, "step_key": "handle", "attempt": 1, "department_id": department_id,
                "status": StepStatus.open.value, "opened_at": received} for i in ids if i % stride == 0])
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


def best_of(runs: int, first, second) -> tuple[float, float]:
    """The best time of each of two pieces of work, run in turns so both meet the same load."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for work, spent in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            work()
            spent.append(time.perf_counter() - started)
    return min(times[0]), min(times[1])


def measure(name: str, url: str, tickets: int, due: int) -> None:
    started = time.perf_counter()
    fill(url, tickets, due)
    print(f"[{name}] filled {tickets:,} open tickets ({due:,} due) in {time.perf_counter() - started:.0f} s")
    policy = AuditPolicy()
    engine = engine_for(url)

    def bare():
        with engine.connect() as conn:
            rows = conn.execute(BARE, {"now": NOW if name == "postgresql" else NOW.replace(tzinfo=None),
                                       "types": [t.value for t in policy.target_types],
                                       "limit": due}).fetchall()
        assert len(rows) == due, len(rows)

    def ours():
        with session_scope(url) as session:
            rows = due_clocks(session, now=NOW, policy=policy, limit=due)
            session.rollback()
        assert len(rows) == due, len(rows)

    bare()  # warm the caches for both alike
    bare_s, ours_s = best_of(7, bare, ours)
    print(f"[{name}] bare indexed query: {bare_s * 1000:.0f} ms; audit selection: "
          f"{ours_s * 1000:.0f} ms; ratio {ours_s / bare_s:.2f}x (target <= 1.5x)")
    folder = Path(tempfile.mkdtemp(prefix="gridline-audit-bench-"))
    started, cpu_started = time.perf_counter(), time.process_time()
    counts = audit_due(now=NOW, policy=policy, timezone=TZ, database_url=url)
    with session_scope(url) as session:
        write_day_workbooks(session, day=NOW.date(), folder=folder, timezone=TZ)
    whole, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    shutil.rmtree(folder)
    print(f"[{name}] whole audit of {counts['checked']:,} due clocks ({counts['queued']:,} messages "
          f"queued) with workbooks: {whole:.1f} s (target < 10 s), of which {cpu:.1f} s CPU in "
          f"Gridline's process; {whole / bare_s:.0f}x the bare query")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="gridline-bench-"))
    try:
        if args.only in (None, "sqlite"):
            measure("sqlite", f"sqlite:///{workdir / 'bench.db'}", args.tickets, args.due)
        if args.only in (None, "postgresql"):
            cluster = LocalPostgres(Path(tempfile.mkdtemp(prefix="gridline-pg-")), durable=False)
            cluster.start()
            try:
                measure("postgresql", cluster.url(), args.tickets, args.due)
            finally:
                cluster.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
