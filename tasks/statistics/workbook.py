"""Figures as Excel sheets: the dashboard's download and the scheduled reports write the same
rows the screen shows (one sheet per table), numbers kept numbers with the screen's format."""

import os
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from models.statistics.indicators import Kind
from tasks.audit.workbooks import HEADER_FILL, printable
from tasks.statistics.figures import DIMENSION_LABELS, Figures

NUMBER_FORMATS = {Kind.ratio: "0.0%", Kind.minutes: "0.0", Kind.count: "0"}


def figure_rows(figures: Figures) -> list[tuple[str, float | None]]:
    """The unit table as the screen lists it: every unit, then the total."""
    return [(row.label, row.value) for row in [*figures.rows, figures.total]]


def add_sheet(book: Workbook, title: str, heading: str, figures: Figures) -> None:
    sheet = book.create_sheet(title[:31])
    sheet.append([heading, figures.indicator.label])
    for label, value in figure_rows(figures):
        sheet.append([label, value])
    if figures.dimension:
        sheet.append([])
        sheet.append([DIMENSION_LABELS[figures.dimension], figures.indicator.label])
        for row in figures.by_dimension:
            sheet.append([row.label, row.value])
    for (cell,) in sheet.iter_rows(min_col=2, max_col=2):
        if isinstance(cell.value, float | int):
            cell.number_format = NUMBER_FORMATS[figures.indicator.kind]
    for cell in sheet[1]:
        cell.font, cell.fill = Font(bold=True, color="FFFFFF"), HEADER_FILL
    sheet.column_dimensions[get_column_letter(1)].width = 28
    sheet.column_dimensions[get_column_letter(2)].width = 22
    printable(sheet)


def save(book: Workbook, path: Path) -> Path:
    """Written whole or not at all: a reader never sees half a workbook."""
    if len(book.sheetnames) > 1 and book.sheetnames[0] == "Sheet":
        del book["Sheet"]
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.xlsx")
    book.save(partial)
    os.replace(partial, path)
    return path
