"""Customers import at scale: a million-row csv, on SQLite and on PostgreSQL, in the same run:
  * the bare baseline: csv.reader and a plain DBAPI executemany INSERT of the same rows (region
    looked up in a dict, nothing checked), one transaction;
  * `gridline customers import` (tasks.org.customer_import): every row checked (phones through
    phonenumbers, units, duplicates) and spooled, then written in batches, one transaction;
  * the same file imported again (every row looked up and found unchanged), with --reimport.
Each measurement runs in a child process of its own, so its peak RSS is its own. Prints rows per
second, seconds and peak memory (MiB) of each, and the import's time over the baseline's.

    nice -n 10 .venv/bin/python bench/customers_import_bench.py [--rows 1000000] [--only sqlite]
"""

import argparse
import csv
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, select  # noqa: E402

from models.org.organisation import Region  # noqa: E402
from tasks.core.db import session_scope, upgrade_schema  # noqa: E402
from tasks.org.customer_import import import_customers  # noqa: E402
from tasks.org.org_import import import_org, read_org_tables  # noqa: E402

COUNTIES = ["320102", "320581"]
HEADERS = ["户号", "户名", "联系电话", "用电地址", "供电单位编码", "供电区域类型", "重要客户"]
PREFIXES = ["138", "139", "137", "136", "135", "150", "151", "152", "186", "187", "188", "189"]


def write_file(path: Path, rows: int) -> None:
    rng = random.Random(95598)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for i in range(rows):
            phones = f"{rng.choice(PREFIXES)}{rng.randrange(10**8):08d}"
            if i % 10 == 0:
                phones += f"，0512{rng.randrange(10**8):08d}"
            writer.writerow([f"32{i:010d}", f"客户{i}", phones, f"苏州市某路{i % 999 + 1}号",
                             COUNTIES[i % 2], "", "是" if i % 100 == 0 else "否"])


def prepare(url: str, org_file: Path) -> None:
    upgrade_schema(url)
    with session_scope(url) as session:
        report = import_org(session, read_org_tables([org_file]), now=datetime.now(UTC))
        assert not report.problems, report.problems


def baseline(url: str, path: Path, batch: int) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        regions = dict(conn.execute(select(Region.code, Region.id)).all())
    raw = engine.raw_connection()
    sql = ("INSERT INTO customers (account_no, name, phone, alt_phone, address, region_id, "
           "area_kind, important) VALUES (%s)" % ", ".join(["?" if url.startswith("sqlite")
                                                             else "%s"] * 8))
    count = 0
    try:
        cursor = raw.cursor()
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader)
            rows = []
            for account, name, phones, address, unit, _area, important in reader:
                first, _, second = phones.partition("，")
                rows.append((account, name, first, second or None, address, regions[unit],
                             "urban", important == "是"))
                if len(rows) >= batch:
                    cursor.executemany(sql, rows)
                    count += len(rows)
                    rows = []
            if rows:
                cursor.executemany(sql, rows)
                count += len(rows)
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return count


def child(kind: str, url: str, path: Path, batch: int) -> None:
    """One measurement: seconds and peak RSS, as JSON on stdout."""
    start = time.perf_counter()
    if kind == "baseline":
        rows = baseline(url, path, batch)
    else:
        with session_scope(url) as session:
            report = import_customers(session, path, batch_size=batch)
        assert not report.errors, report.errors[:3]
        rows = report.rows
        assert (report.created if kind == "import" else report.unchanged) == rows, report
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_mib": peak}))


def measure(kind: str, url: str, path: Path, batch: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, url, str(path), str(batch)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run(name: str, urls: tuple[str, str], path: Path, batch: int, reimport: bool,
        org_file: Path) -> None:
    base_url, import_url = urls
    for url in urls:
        prepare(url, org_file)
    results = {"baseline": measure("baseline", base_url, path, batch),
               "import": measure("import", import_url, path, batch)}
    if reimport:
        results["reimport"] = measure("reimport", import_url, path, batch)
    for kind, figures in results.items():
        print(f"{name:10} {kind:9} {figures['rows']:>9} rows  {figures['seconds']:8.1f} s  "
              f"{figures['rows'] / figures['seconds']:>9.0f} rows/s  peak {figures['peak_mib']:6.0f} MiB")
    ratio = results["import"]["seconds"] / results["baseline"]["seconds"]
    print(f"{name:10} import / baseline: {ratio:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--reimport", action="store_true",
                        help="also import the same file again (every row unchanged)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, url, path, batch = args.child
        child(kind, url, Path(path), int(batch))
        return
    from gridline.local_postgres import LocalPostgres
    from tests.org_files import write_xlsx

    work = Path(tempfile.mkdtemp(prefix="gridline-customers-bench-"))
    try:
        path = work / "customers.csv"
        write_file(path, args.rows)
        org_file = write_xlsx(work / "org.xlsx")
        print(f"{args.rows} rows, {path.stat().st_size / 2**20:.0f} MiB csv, batches of "
              f"{args.batch_size}")
        if args.only in (None, "sqlite"):
            run("sqlite", (f"sqlite:///{work / 'base.db'}", f"sqlite:///{work / 'import.db'}"),
                path, args.batch_size, args.reimport, org_file)
        if args.only in (None, "postgresql"):
            pg_root = Path(tempfile.mkdtemp(prefix="gridline-pg-"))
            cluster = LocalPostgres(pg_root, durable=False)
            cluster.start()
            try:
                urls = tuple(_database(cluster.url(), name) for name in ("base", "import"))
                run("postgresql", urls, path, args.batch_size, args.reimport, org_file)
            finally:
                cluster.stop()
                shutil.rmtree(pg_root, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _database(admin_url: str, name: str) -> str:
    from sqlalchemy import text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


if __name__ == "__main__":
    main()
