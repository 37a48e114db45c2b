"""The day's statistics workbooks (seed 000's 即将超期工单统计表 and 已超期工单统计表), written from
the audit's rows so a re-run rewrites the same rows: a detail sheet and a per-department summary."""

import os
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.audit.assessment import AuditRecord, AuditStage
from tasks.core.spreadsheets import printable

COLUMNS = [  # header, width
    ("序号", 6), ("工单号", 17), ("工单类型", 10), ("期限类别", 10), ("工单内容", 40),
    ("处理期限", 18), ("责任部门", 22), ("责任人", 10), ("责任人电话", 14), ("升级级别", 10),
    ("首次发现时间", 18), ("最近检查时间", 18),
]
ESCALATION = {0: "未升级", 1: "已报主管", 2: "已报值班长"}
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
HEADER_FILL = PatternFill("solid", fgColor="006B5F")


def workbook_path(folder: Path, stage: AuditStage, day: date) -> Path:
    return folder / f"{stage.label}工单统计表-{day.isoformat()}.xlsx"


def write_day_workbooks(session: Session, *, day: date, folder: Path,
                        timezone: str) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for stage in AuditStage:
        rows = list(session.scalars(
            select(AuditRecord).where(AuditRecord.day == day, AuditRecord.stage == stage)
            .order_by(AuditRecord.department, AuditRecord.due_at, AuditRecord.id)))
        path = workbook_path(folder, stage, day)
        _write(path, f"{stage.label}工单统计表", rows, timezone)
        paths[stage.value] = path
    return paths


def _local(value: datetime, timezone: str) -> datetime:
    """Excel has no time zones: cells hold the centre's wall-clock time as a real datetime.
    (zoneinfo, not pendulum: pendulum reads the zone file again on every call.)"""
    return value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def _write(path: Path, title: str, rows: list[AuditRecord], timezone: str) -> None:
    book = Workbook()
    detail = book.active
    detail.title = "明细"
    detail.append([header for header, _ in COLUMNS])
    for number, row in enumerate(rows, start=1):
        detail.append([
            number, row.ticket_number, row.ticket_type, row.clock_label, row.content,
            _local(row.due_at, timezone), row.department or "未指定", row.responsible or "未指定",
            row.responsible_phone, ESCALATION.get(row.escalation, str(row.escalation)),
            _local(row.first_seen_at, timezone), _local(row.last_seen_at, timezone),
        ])
    for column in (6, 11, 12):
        for (cell,) in detail.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = DATETIME_FORMAT
    for index, (_, width) in enumerate(COLUMNS, start=1):
        detail.column_dimensions[get_column_letter(index)].width = width
        header = detail.cell(row=1, column=index)
        header.font, header.fill = Font(bold=True, color="FFFFFF"), HEADER_FILL
        header.alignment = Alignment(horizontal="center")
    detail.freeze_panes = "A2"
    detail.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, len(rows)) + 1}"
    printable(detail)

    summary = book.create_sheet("部门汇总")
    summary.append(["责任部门", "工单数"])
    per_department = Counter(row.department or "未指定" for row in rows)
    for department, count in sorted(per_department.items(), key=lambda item: -item[1]):
        summary.append([department, count])
    summary.append(["合计", len(rows)])
    summary.column_dimensions["A"].width, summary.column_dimensions["B"].width = 28, 10
    summary.freeze_panes = "A2"
    if per_department:
        chart = BarChart()
        chart.title, chart.y_axis.title = f"{title}（按部门）", "工单数"
        chart.add_data(Reference(summary, min_col=2, min_row=1, max_row=len(per_department) + 1),
                       titles_from_data=True)
        chart.set_categories(Reference(summary, min_col=1, min_row=2,
                                       max_row=len(per_department) + 1))
        chart.width, chart.height = 18, 9
        # openpyxl 3.1 hides both axes unless told otherwise; the counts go on the bars.
        chart.x_axis.delete = chart.y_axis.delete = False
        chart.dataLabels = DataLabelList(showVal=True)
        chart.legend = None
        summary.add_chart(chart, "D2")
    printable(summary)

    partial = path.with_suffix(".partial.xlsx")
    book.save(partial)
    os.replace(partial, path)  # readers never see half a workbook
