"""The three scheduled reports (日报, 报表, 指标报告; prefect.yaml): Excel and PDF per scope, mailed
to subscribers through the outbox and kept as a Prefect artifact per report. A re-run of the same
day replaces the files and the artifact's content and queues no mail twice."""

import pendulum
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from models.statistics.reports import covered
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.statistics.reports import Written, period_text, reports, write_report


@task(retries=1, retry_delay_seconds=30)
def write(report: str, run_day: str) -> list[Written]:
    settings = get_settings()
    spec = reports().get(report)
    first, last = covered(spec.period, pendulum.parse(run_day).date())
    with session_scope() as session:
        return write_report(session, spec, first=first, last=last,
                            folder=settings.var_dir / "reports" / spec.key,
                            now=pendulum.now("UTC"), timezone=settings.timezone)


def artifact_text(label: str, written: list[Written]) -> str:
    parts = [f"# {label}"]
    for scope in written:
        parts += [f"## {scope.unit}", "", "| 指标 | 数值 |", "| --- | --- |",
                  *[f"| {name} | {value} |" for name, value in scope.summary], "",
                  f"文件：`{scope.workbook}`、`{scope.pdf}`；收件人 {len(scope.recipients)} 人", ""]
    return "\n".join(parts)


@flow(name="statistics-report")
def statistics_report(report: str = "daily", day: str | None = None) -> dict:
    """`day` (YYYY-MM-DD, the centre's) replays the run of that day; by default today."""
    settings = get_settings()
    run_day = day or pendulum.now(settings.timezone).date().isoformat()
    spec = reports().get(report)
    written = write(report, run_day)
    first, last = covered(spec.period, pendulum.parse(run_day).date())
    create_markdown_artifact(key=f"statistics-{spec.key.replace('_', '-')}",
                             markdown=artifact_text(f"{spec.label} {period_text(first, last)}",
                                                    written),
                             description=f"{spec.label} {period_text(first, last)}")
    get_run_logger().info("%s %s: %d scopes", spec.label, period_text(first, last), len(written))
    return {"report": spec.key, "period": period_text(first, last),
            "files": [str(p) for w in written for p in (w.workbook, w.pdf)],
            "recipients": sum(len(w.recipients) for w in written)}
