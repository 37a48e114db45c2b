"""Writing a scheduled report: for each scope its subscribers share (their region, with or without
the centre's calls), one workbook (a summary sheet, then each indicator by unit) and its PDF, and
an e-mail to each subscriber with their own scope's figures. Files are named by report, scope and
period, so a re-run replaces them; mails are keyed the same way, so a re-run sends none twice."""

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy.orm import Session

from models.org.organisation import Staff
from models.statistics.reports import ReportSet, ReportSpec, load_reports
from tasks.messaging.outbox import Intent, enqueue_many
from tasks.statistics.aggregations import indicators
from tasks.statistics.figures import Statistics, Viewer, local_period, shown
from tasks.statistics.subscriptions import subscribers
from tasks.statistics.workbook import add_sheet, save


@cache
def reports() -> ReportSet:
    return load_reports({i.key for i in indicators().indicators})


@dataclass
class Written:
    unit: str
    workbook: Path
    pdf: Path
    summary: list[tuple[str, str]]  # (indicator label, figure as printed)
    recipients: list[str]


def period_text(first: date, last: date) -> str:
    return first.isoformat() if first == last else f"{first.isoformat()}至{last.isoformat()}"


def to_pdf(workbook: Path) -> Path:
    """LibreOffice, headless, with a profile of its own (two conversions at once do not share
    one); the CJK fonts it prints with are embedded in the PDF."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        raise RuntimeError("LibreOffice (soffice) is not installed: dev.sh installs it")
    with tempfile.TemporaryDirectory(prefix="gridline-lo-") as profile:
        subprocess.run([office, "--headless", f"-env:UserInstallation=file://{profile}",
                        "--convert-to", "pdf", "--outdir", str(workbook.parent), str(workbook)],
                       check=True, capture_output=True, timeout=300)
    return workbook.with_suffix(".pdf")


def write_scope(stats: Statistics, spec: ReportSpec, first: date, last: date, folder: Path,
                 now: datetime, timezone: str) -> tuple[Path, list[tuple[str, str]]]:
    period = local_period(first, last, timezone, now)
    place = stats.tree.regions[stats.viewer.root_id]
    title = f"{spec.label} {place.name} {period_text(first, last)}"
    book, summary = Workbook(), []
    sheet = book.active
    sheet.title = "汇总"
    sheet.append([title, ""])
    sheet.append(["指标", place.name])
    figures = []
    for key in spec.indicators:
        indicator = indicators().get(key)
        if stats.sees(indicator):
            figures.append(stats.figures(indicator, period))
            summary.append((indicator.label, shown(indicator.kind, figures[-1].total.value)))
            sheet.append(list(summary[-1]))
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 32, 22
    for found in figures:
        if found.rows:
            add_sheet(book, found.indicator.label, f"{place.name} {period_text(first, last)}", found)
    calls = "" if stats.viewer.sees_calls else "-不含话务"
    path = folder / f"{spec.label}-{place.name}{calls}-{period_text(first, last)}.xlsx"
    return save(book, path), summary


def write_report(session: Session, spec: ReportSpec, *, first: date, last: date, folder: Path,
                 now: datetime, timezone: str) -> list[Written]:
    """Every scope's files, and a queued e-mail for each of its subscribers."""
    scopes: dict[Viewer, tuple[Statistics, list[Staff]]] = {}
    for person in subscribers(session, spec):
        stats = Statistics(session, person)
        scopes.setdefault(stats.viewer, (stats, []))[1].append(person)
    written, intents = [], []
    for stats, people in scopes.values():
        workbook, summary = write_scope(stats, spec, first, last, folder, now, timezone)
        unit = stats.tree.regions[stats.viewer.root_id].name
        pdf = to_pdf(workbook)
        written.append(Written(unit, workbook, pdf, summary, [p.email for p in people]))
        for person in people:
            intents.append(Intent(
                key=f"report:{spec.key}:{first}:{last}:{person.id}:email", channel="email",
                recipient=person.email, template="statistics_report", context={
                    "report": spec.label, "unit": unit, "period": period_text(first, last),
                    "name": person.name, "rows": summary,
                    "files": [workbook.name, workbook.with_suffix(".pdf").name]},
                attachments=(str(workbook), str(pdf))))
    enqueue_many(session, intents, now=now, timezone=timezone)
    return written
