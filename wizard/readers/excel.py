"""XLSX, XLS and ODS through python-calamine (Rust), chosen over openpyxl's read-only mode.

Why calamine (figures from ``bench/bench_readers.py``, 100k rows x 10 columns, this 2-core box):
calamine read the sheet in about 1.1 s with ~100 MB peak RSS; openpyxl read-only took about
7.7 s with ~60 MB (it streams, but pays a Python object per cell and per XML event). calamine
also reads legacy ``.xls`` (BIFF8) and ``.ods``, which openpyxl cannot, and skips the trailing
empty-but-styled rows of a sheet padded to 1,048,576 rows in well under a second, where
openpyxl read-only walks every one of them. The price: calamine holds the chosen sheet's cell
values in memory (compactly, in Rust) instead of streaming them. Workbooks are bounded by the
upload size limit and by :func:`zip_check_safe` (archive bombs), which keeps that bounded; CSV
and JSON, the formats of truly big files, stream.

What calamine gives and how it is passed on: cells formatted as dates (1900 and 1904 date
systems) arrive as ``date``/``datetime``; text cells stay text ("001" keeps its zeros); formula
cells give their cached value; numbers are floats, and whole numbers become ``int`` because
Excel stores every number as a double and "40" is what the person sees; empty cells are None;
times and durations become "HH:MM:SS" text.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from os import PathLike
from typing import Any

import python_calamine

from wizard.readers.base import ReaderError
from wizard.readers.detect import zip_check_safe

_DAMAGED = (
    "The workbook could not be read: it is damaged, password-protected or not really an {fmt} file."
)


def excel_open(path: str | PathLike, fmt: str) -> python_calamine.CalamineWorkbook:
    if fmt in ("xlsx", "ods"):
        zip_check_safe(path)
    try:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except OSError as exc:
        raise ReaderError(f"The file could not be opened ({exc.strerror or exc}).") from None
    # calamine raises several unrelated types (CalamineError, ZipError, XmlError…).
    except Exception:
        raise ReaderError(_DAMAGED.format(fmt=fmt)) from None


def excel_sheets(workbook: python_calamine.CalamineWorkbook) -> tuple[list[str], str | None]:
    """The worksheets (chart and macro sheets left out) and the first visible one."""
    names: list[str] = []
    first_visible: str | None = None
    try:
        metadata = workbook.sheets_metadata
    except Exception:
        metadata = None
    if metadata:
        for sheet in metadata:
            if sheet.typ != python_calamine.SheetTypeEnum.WorkSheet:
                continue
            names.append(sheet.name)
            if first_visible is None and sheet.visible == python_calamine.SheetVisibleEnum.Visible:
                first_visible = sheet.name
    else:
        names = list(workbook.sheet_names)
    if first_visible is None and names:
        first_visible = names[0]
    return names, first_visible


def excel_sheet(workbook: python_calamine.CalamineWorkbook, name: str, sheets: list[str], fmt: str):
    if name not in sheets:
        listed = ", ".join(f"'{sheet}'" for sheet in sheets) or "none"
        raise ReaderError(f"The workbook has no sheet named '{name}'. Its sheets: {listed}.")
    try:
        return workbook.get_sheet_by_name(name)
    except Exception:
        raise ReaderError(_DAMAGED.format(fmt=fmt)) from None


def excel_value(value: Any) -> Any:
    if value == "" or value is None:
        return None
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        hours, rest = divmod(abs(seconds), 3600)
        return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return value


_PLAIN = (int, bool, dt.date, dt.datetime)


def _convert(raw: list) -> list:
    # Inlined for the common cell types (text, number): a big sheet has millions of cells.
    values = list(raw)
    for position, value in enumerate(values):
        kind = type(value)
        if kind is str:
            if not value:
                values[position] = None
        elif kind is float:
            if value.is_integer() and -(2**53) < value < 2**53:
                values[position] = int(value)
        elif kind not in _PLAIN:
            values[position] = excel_value(value)
    while values and values[-1] is None:
        values.pop()
    return values


def excel_records(sheet, fmt: str) -> Iterator[tuple[int, list]]:
    """Every row as (sheet row number, values without trailing empty cells)."""
    try:
        iterator = sheet.iter_rows()
        # calamine's rows start at the sheet's first row even when the data starts lower.
        for index, raw in enumerate(iterator):
            yield index + 1, _convert(raw)
    except ReaderError:
        raise
    except Exception:
        raise ReaderError(_DAMAGED.format(fmt=fmt)) from None


def excel_last_row(sheet) -> int:
    end = sheet.end
    return end[0] + 1 if end else 0
