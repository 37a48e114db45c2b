"""`gridline customers import`: a million customers from the marketing system's file, upserted by
account number (户号).

Two passes, so a bad row never leaves a half-written import: the first streams the file and
checks every row (the units, duplicate account numbers in the file), spooling the checked rows to
a temporary file; with any bad row it stops there, having written nothing. The second reads the
spool back and writes batches (one look-up of existing account numbers, one multi-row INSERT, one
executemany UPDATE each) in the caller's single transaction. Memory holds one batch, the account
numbers seen (for duplicates) and the units."""

import marshal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from models.org.customer import Customer
from models.org.customer_file import CustomerRow, missing_headers, read_customer
from models.org.organisation import Region
from tasks.core.spreadsheets import read_rows_with

TABLE = Customer.__table__
UPDATE = update(TABLE).where(TABLE.c.id == bindparam("b_id")).values(
    {name: bindparam(f"b_{name}") for name in CustomerRow._fields})
MAX_REPORTED = 200  # bad rows listed; the rest are counted
COMPARED = (Customer.name, Customer.phone, Customer.alt_phone, Customer.address,
            Customer.region_id, Customer.area_kind, Customer.important)


@dataclass
class CustomerReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)


def import_customers(session: Session, path: Path, *, batch_size: int = 5000) -> CustomerReport:
    units = {code: (region_id, area.value) for region_id, code, area in
             session.execute(select(Region.id, Region.code, Region.area_kind))}
    report = CustomerReport()
    with tempfile.TemporaryFile() as spool:
        _check(path, units, report, spool, batch_size)
        if report.bad:
            return report
        spool.seek(0)
        while True:
            try:
                batch = marshal.load(spool)
            except EOFError:
                break
            _write(session, [CustomerRow(*values) for values in batch], report)
    return report


def _check(path: Path, units: dict[str, tuple[int, str]], report: CustomerReport, spool,
           batch_size: int) -> None:
    seen: set[str] = set()
    batch: list[tuple] = []
    for number, values in read_rows_with(path, missing_headers):
        report.rows += 1
        try:
            row = read_customer(values, units)
            if row.account_no in seen:
                raise ValueError(f"户号“{row.account_no}”在文件中重复")
        except ValueError as exc:
            report.bad += 1
            if len(report.errors) < MAX_REPORTED:
                report.errors.append((number, str(exc)))
            continue
        seen.add(row.account_no)
        if report.bad:
            continue  # nothing will be written: stop spooling, keep checking
        batch.append(tuple(row))
        if len(batch) >= batch_size:
            marshal.dump(batch, spool)
            batch = []
    if batch and not report.bad:
        marshal.dump(batch, spool)


def _write(session: Session, rows: list[CustomerRow], report: CustomerReport) -> None:
    existing = {found.account_no: found for found in session.execute(
        select(Customer.id, Customer.account_no, *COMPARED)
        .where(Customer.account_no.in_([row.account_no for row in rows])))}
    new, changed = [], []
    for row in rows:
        values = row._asdict()
        found = existing.get(row.account_no)
        if found is None:
            new.append(values)
        elif (found.name, found.phone, found.alt_phone, found.address, found.region_id,
              found.area_kind.value, found.important) != row[1:]:
            changed.append({"b_id": found.id, **{f"b_{k}": v for k, v in values.items()}})
        else:
            report.unchanged += 1
    # Core statements: one executemany each (the ORM's bulk forms split a batch wherever a
    # row's None columns differ from the row before).
    if new:
        session.execute(insert(TABLE), new)
    if changed:
        session.execute(UPDATE, changed)
    report.created += len(new)
    report.updated += len(changed)
