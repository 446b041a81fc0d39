"""XLSX, XLS and ODS: python-calamine (Rust) first, openpyxl read-only for giant xlsx sheets.

Measured with ``bench/bench_readers.py --rows 100000 --padded`` (100,000 rows x 10 columns,
6.2 MB xlsx / 51 MB of sheet XML, on the shared 2-core box, so absolute times are inflated):

    python-calamine       100,001 rows   4.1 s   peak RSS  99.6 MB
    openpyxl read-only    100,001 rows  61.2 s   peak RSS  37.4 MB   (15x slower)
    sheet padded to 1,048,576 rows (2 data rows):
    python-calamine             3 rows   3.1 s   peak RSS  15.9 MB
    openpyxl read-only  1,048,576 rows  39.0 s   peak RSS 117.0 MB

So calamine is the reader: an order of magnitude faster, it also reads legacy ``.xls`` (BIFF8)
and ``.ods`` (openpyxl reads neither), and trailing empty-but-styled rows cost it almost
nothing. Its price is memory: it holds the chosen sheet's cells (about twice the sheet's XML
size at worst) instead of streaming. openpyxl read-only streams with flat memory. Hence the
rule: an xlsx sheet whose XML expands past ``CALAMINE_MAX_SHEET_XML_BYTES`` (96 MB, roughly
200,000 rows of 10 columns) is streamed with openpyxl, so memory never grows with the file;
everything smaller (nearly every real workbook) takes the fast path. Both paths give the same
values (a test reads the samples both ways). Archive bombs are refused before either opens the
file (:func:`zip_check_safe`).

Values passed on: cells formatted as dates (1900 and 1904 date systems) arrive as ``date`` or
``datetime`` (midnight is a ``date``); text cells stay text ("001" keeps its zeros); formula
cells give their cached value; numbers are floats, and whole numbers become ``int`` because
Excel stores every number as a double and "40" is what the person sees; empty cells are None;
times and durations become "HH:MM:SS" text.
"""

from __future__ import annotations

import datetime as dt
import math
import posixpath
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from os import PathLike
from typing import Any
from xml.etree import ElementTree

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


# --- very big xlsx sheets: streamed with openpyxl ---------------------------------------------

# calamine holds a sheet's cells in memory, up to about twice the sheet's XML size. Past this
# XML size the sheet is streamed with openpyxl's read-only mode instead: flat memory, ~15x
# slower. A 100,000-row, 10-column sheet is about 50 MB of XML, so nearly every real workbook
# takes the fast path; only exports of hundreds of thousands of rows take the slow, safe one.
CALAMINE_MAX_SHEET_XML_BYTES = 96 * 1024 * 1024

_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def xlsx_sheet_xml_size(path: str | PathLike, name: str) -> int | None:
    """The uncompressed size of a sheet's XML part, read from the zip directory (cheap)."""
    try:
        with zipfile.ZipFile(path) as archive:
            workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            rel_id = next(
                (
                    sheet.get(_REL_ID)
                    for sheet in workbook.iter(f"{_MAIN_NS}sheet")
                    if sheet.get("name") == name
                ),
                None,
            )
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            target = next(
                (rel.get("Target") for rel in rels.iter(_PKG_REL) if rel.get("Id") == rel_id), None
            )
            if not target:
                return None
            member = (
                target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
            )
            return archive.getinfo(member).file_size
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError, OSError):
        return None


def _openpyxl_records(worksheet, min_col: int) -> Iterator[tuple[int, list]]:
    number = 0
    for row in worksheet.iter_rows(min_col=min_col):
        number += 1
        for cell in row:
            # Gaps between rows come back as empty tuples; a real cell knows its own row.
            row_number = getattr(cell, "row", None)
            if row_number:
                number = row_number
                break
        raw = []
        for cell in row:
            value = cell.value
            if type(value) is dt.datetime and value.time() == dt.time(0):
                value = value.date()  # as calamine gives a date-formatted cell
            raw.append(value)
        yield number, _convert(raw)


@dataclass
class SheetSource:
    """One sheet opened for reading, whichever library reads it."""

    sheets: list[str]
    name: str
    last_row: int
    records: Iterator[tuple[int, list]]
    close: Callable[[], None]


def excel_sheet_open(path: str | PathLike, fmt: str, sheet_name: str | None) -> SheetSource:
    workbook = excel_open(path, fmt)
    try:
        sheets, first = excel_sheets(workbook)
        if not sheets:
            raise ReaderError("The workbook has no worksheets.")
        name = sheet_name or first
        size = xlsx_sheet_xml_size(path, name) if fmt == "xlsx" and name in sheets else None
        if size is not None and size > CALAMINE_MAX_SHEET_XML_BYTES:
            workbook.close()
            return _openpyxl_source(path, sheets, name)
        sheet = excel_sheet(workbook, name, sheets, fmt)
    except BaseException:
        workbook.close()
        raise
    return SheetSource(
        sheets=sheets,
        name=name,
        last_row=excel_last_row(sheet),
        records=excel_records(sheet, fmt),
        close=workbook.close,
    )


def _openpyxl_source(path: str | PathLike, sheets: list[str], name: str) -> SheetSource:
    import openpyxl

    try:
        with warnings.catch_warnings():
            # "Unknown extension", "no default style": openpyxl's notes about features it drops
            # (data validation, conditional formats), none of which touch cell values.
            warnings.simplefilter("ignore", UserWarning)
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        worksheet = workbook[name]
        # The stored <dimension> is often stale: keep its first column (calamine also starts at
        # the first used column) and its last row as an estimate, then read to the real end.
        min_col = worksheet.min_column or 1
        last_row = worksheet.max_row or 0
        worksheet.reset_dimensions()
    except Exception:
        raise ReaderError(_DAMAGED.format(fmt="xlsx")) from None

    def records() -> Iterator[tuple[int, list]]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                yield from _openpyxl_records(worksheet, min_col)
        except ReaderError:
            raise
        except Exception:
            raise ReaderError(_DAMAGED.format(fmt="xlsx")) from None

    return SheetSource(
        sheets=sheets, name=name, last_row=last_row, records=records(), close=workbook.close
    )
