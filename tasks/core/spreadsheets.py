"""Tables as spreadsheets: reading an uploaded table, xlsx or csv (UTF-8 or GBK, as Chinese exports
often are), row by row, one reader for every import; and writing a table (a list as a page shows
it) as an xlsx that prints as it reads."""

import codecs
import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from models.core.errors import InputError

HEADER_FILL = PatternFill("solid", fgColor="0B5394")
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def read_rows_with(path: Path, missing_headers: Callable[[set[str]], list[str]]
                   ) -> Iterator[tuple[int, dict[str, Any]]]:
    """read_rows, refusing a file whose header lacks a required column (the Chinese names that
    `missing_headers` gives) before its first row is used."""
    checked = False
    for number, values in read_rows(path):
        if not checked:
            if missing := missing_headers(set(values)):
                raise InputError("file", f"缺少列：{'、'.join(missing)}",
                                 f"missing column(s): {'、'.join(missing)}")
            checked = True
        yield number, values


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number as the user sees it, {header: value}) for each non-empty row; the header is
    row 1. Streams: a call history may have millions of rows."""
    if not path.is_file():
        raise InputError("file", "文件不存在", f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        book = load_workbook(path, read_only=True, data_only=True)
        try:
            yield from _numbered(book.active.iter_rows(values_only=True), path)
        finally:
            book.close()
    elif suffix == ".csv":
        with path.open(newline="", encoding=_csv_encoding(path)) as handle:
            yield from _numbered(csv.reader(handle), path)
    else:
        raise InputError("file", "仅支持 xlsx 或 csv 文件", f"expected .xlsx or .csv, got {path.name}")


def read_sheets(path: Path) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """Every sheet of a (small) workbook, each as `read_rows` gives one: {sheet name: rows}."""
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        return {sheet.title: list(_numbered(sheet.iter_rows(values_only=True), path, empty_ok=True))
                for sheet in book.worksheets}
    finally:
        book.close()


def _numbered(rows: Iterable[Iterable[Any]], path: Path,
             empty_ok: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        if empty_ok:
            return
        raise InputError("file", "文件为空", f"{path.name} is empty")
    headers = [str(h).strip() if h is not None else "" for h in first]
    for number, values in enumerate(rows, start=2):
        if any(v not in (None, "") for v in values):
            yield number, dict(zip(headers, values, strict=False))


def _csv_encoding(path: Path) -> str:
    """The first encoding the whole file decodes in, checked in chunks, not held in memory."""
    for encoding in CSV_ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise InputError("file", "无法识别文件编码", f"{path.name}: neither UTF-8 nor GB18030")


def printable(sheet) -> None:
    """On paper as on screen: A4 landscape, every column on one page's width, the header row
    repeated on each page."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0  # 0: as many pages as needed
    sheet.print_title_rows = "1:1"
    sheet.print_options.horizontalCentered = True


def table_workbook(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]],
                   widths: Sequence[int] = ()) -> bytes:
    """One sheet: a bold header row, frozen and filterable, then the rows as given."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    count = sheet.max_row - 1
    for index, header in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.fill = Font(bold=True, color="FFFFFF"), HEADER_FILL
        width = widths[index - 1] if index <= len(widths) else max(10, 2 * len(header) + 2)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
    printable(sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
