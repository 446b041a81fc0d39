"""XLSX through XlsxWriter in constant-memory mode: each row goes to disk as the next one starts.

XlsxWriter rather than openpyxl's write-only workbook: on the same rows it takes about two
thirds of the time (bench/bench_export.py), with the same flat memory. A row is handed to
``write_row`` untouched (but for aware date-times): the number and date formats are the
columns' formats, which Excel applies to every cell written without a format of its own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from accounts.formats import CURRENCY_SYMBOLS
from business.resources import FieldType
from business.writers.base import Column, Writer, naive_local

# Excel's hard limit of rows on one sheet (header included); a module constant so tests can
# exercise the split with a small number.
MAX_SHEET_ROWS = 1_048_576
# Rows looked at to size columns; a column's width and format are set before its first row.
WIDTH_SAMPLE_ROWS = 50
MAX_WIDTH = 60
MIN_WIDTH = 6

NUMBER_FORMATS = {
    FieldType.MONEY: "#,##0.00",
    # "#,##0.####" shows a whole number with a trailing dot ("12."); General shows 12, 12.5
    # and 0.125 as they are.
    FieldType.DECIMAL: "General",
    FieldType.INTEGER: "0",
    FieldType.DATE: "yyyy-mm-dd",
    FieldType.DATETIME: "yyyy-mm-dd hh:mm",
}
_INVALID_TITLE = re.compile(r"[\[\]:*?/\\]")
HEADER_FILL = "#E8EEF4"
# What XlsxWriter writes natively; anything else is written as its text.
_NATIVE = (str, int, float, Decimal, bool, dt.date, dt.time, dt.timedelta, type(None))

WORKBOOK_OPTIONS = {
    "constant_memory": True,
    # A text cell is shown as it is and never evaluated: "=HYPERLINK(…)" stays harmless text
    # and needs no apostrophe; "+41 44 …" keeps its "+"; a URL is not turned into a link.
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    "nan_inf_to_errors": True,
    # Only a safety net for an aware date-time in a column not typed as one (those are shown
    # in local time, see _append).
    "remove_timezone": True,
}


def _width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, dt.datetime):
        return 16
    if isinstance(value, dt.date):
        return 10
    if isinstance(value, Decimal | float):
        return len(f"{value:,.2f}")
    return len(str(value))


class XlsxWriter(Writer):
    extension = "xlsx"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def __init__(self, path, **kwargs):
        super().__init__(path, **kwargs)
        self._wb = xlsxwriter.Workbook(str(self.path), WORKBOOK_OPTIONS)
        self._formats: dict[tuple, Any] = {}
        self._titles: set[str] = set()
        self._ws = None
        self._sheet_rows = 0
        self._sheet_number = 1
        self._pending: list[list] | None = None
        self._summary_sheet = None

    def _format(self, **properties):
        """One Format object per distinct look (XlsxWriter writes each once)."""
        key = tuple(sorted(properties.items()))
        if key not in self._formats:
            self._formats[key] = self._wb.add_format(properties)
        return self._formats[key]

    # --- sheets ---------------------------------------------------------------------------
    def _sheet_title(self, title: str) -> str:
        base = _INVALID_TITLE.sub(" ", title).strip().strip("'")[:31] or "Sheet"
        candidate, n = base, 2
        while candidate.lower() in self._titles:
            suffix = f" ({n})"
            candidate = base[: 31 - len(suffix)] + suffix
            n += 1
        self._titles.add(candidate.lower())
        return candidate

    def _summary(self, title: str, items: list[tuple[str, Any]]) -> None:
        self._flush_pending()
        ws = self._wb.add_worksheet(self._sheet_title(title or "Summary"))
        self._summary_sheet = ws
        ws.set_column(0, 0, max([12] + [min(_width(k), MAX_WIDTH) for k, _ in items]))
        ws.set_column(1, 1, max([12] + [min(_width(v) + 2, MAX_WIDTH) for _, v in items]))
        ws.write_string(0, 0, self.title, self._format(bold=True, font_size=14))
        row = 1
        lines = [self.organization_name, f"Generated {self.generated_at:%Y-%m-%d %H:%M}"]
        for line in [*lines, *self.filters_text]:
            if line:
                ws.write_string(row, 0, str(line))
                row += 1
        row += 1  # a blank line before the figures
        bold = self._format(bold=True)
        for label, value in items:
            ws.write_string(row, 0, str(label), bold)
            self._summary_value(ws, row, value)
            row += 1

    def _summary_value(self, ws, row: int, value: Any) -> None:
        if isinstance(value, str):
            ws.write_string(row, 1, value)
        elif isinstance(value, bool) or value is None:
            ws.write(row, 1, value)
        elif isinstance(value, Decimal | float):
            ws.write_number(row, 1, value, self._format(num_format="#,##0.00"))
        elif isinstance(value, int):
            ws.write_number(row, 1, value, self._format(num_format="#,##0"))
        elif isinstance(value, dt.datetime):
            fmt = self._format(num_format=NUMBER_FORMATS[FieldType.DATETIME])
            ws.write_datetime(row, 1, naive_local(value), fmt)
        elif isinstance(value, dt.date):
            ws.write_datetime(
                row, 1, value, self._format(num_format=NUMBER_FORMATS[FieldType.DATE])
            )
        else:
            ws.write_string(row, 1, str(value))

    def _section(self, title: str, columns: list[Column]) -> None:
        self._flush_pending()
        self._finish_sheet()
        self._sheet_number = 1
        self._start_sheet()

    def _finish_sheet(self) -> None:
        """End a table's sheet: a totals row under the amount columns (SUBTOTAL, so it follows
        the autofilter) and an autofilter on the header row."""
        ws = self._ws
        if ws is None or self._sheet_rows == 0:
            return
        last = self._sheet_rows  # the header and the data rows written so far
        columns = self._sheet_columns
        ws.autofilter(0, 0, last - 1, max(len(columns), 1) - 1)
        summed = [i for i, c in enumerate(columns) if c.summed]
        if summed and last > 1:
            for i in summed:
                letter = xl_col_to_name(i)
                fmt = self._format(
                    bold=True, num_format=self._number_format(columns[i]) or "#,##0.00"
                )
                ws.write_formula(last, i, f"=SUBTOTAL(109,{letter}2:{letter}{last})", fmt)
            label_at = next((i for i in range(len(columns)) if i not in summed), None)
            if label_at is not None:
                ws.write_string(last, label_at, "Total", self._format(bold=True))
        self._ws = None

    def _number_format(self, column: Column) -> str | None:
        """The column's Excel format; amounts carry the organization's currency when known."""
        currency = self.options.get("currency")
        if column.type == FieldType.MONEY and currency and column.total is not False:
            symbol = CURRENCY_SYMBOLS.get(currency)
            return f'"{symbol}"#,##0.00' if symbol else f'#,##0.00 "{currency}"'
        return NUMBER_FORMATS.get(column.type)

    def _start_sheet(self) -> None:
        name = (
            self.section_title
            if self._sheet_number == 1
            else (f"{self.section_title} {self._sheet_number}")
        )
        self._ws = self._wb.add_worksheet(self._sheet_title(name))
        self._ws.freeze_panes(1, 0)
        self._sheet_rows = 0
        # The sheet's own columns: by the time its pending rows are flushed (when the next
        # section starts) ``self.columns`` already holds the next section's columns.
        self._sheet_columns = list(self.columns)
        self._datetime_columns = [
            i for i, c in enumerate(self._sheet_columns) if c.type == FieldType.DATETIME
        ]
        # Leave room for the totals row when the table has one.
        self._sheet_limit = MAX_SHEET_ROWS - any(c.summed for c in self._sheet_columns)
        self._pending = []

    def _flush_pending(self) -> None:
        """Size and format the columns from the header and the first rows, then write them."""
        if self._pending is None:
            return
        ws, pending = self._ws, self._pending
        self._pending = None
        for index, column in enumerate(self._sheet_columns):
            width = max([_width(column.label) + 2] + [_width(r[index]) + 1 for r in pending])
            fmt = self._number_format(column)
            ws.set_column(
                index,
                index,
                max(MIN_WIDTH, min(MAX_WIDTH, width)),
                self._format(num_format=fmt) if fmt else None,
            )
        header = self._format(bold=True, bg_color=HEADER_FILL, valign="vcenter")
        for index, column in enumerate(self._sheet_columns):
            ws.write_string(0, index, str(column.label), header)
        self._sheet_rows = 1
        for values in pending:
            self._append(values)

    def _append(self, values: list) -> None:
        if self._sheet_rows >= self._sheet_limit:
            self._finish_sheet()
            self._sheet_number += 1
            self._start_sheet()
            self._pending = [values]
            self._flush_pending()
            return
        # This runs once per row of a million-row export: the row goes to XlsxWriter as it
        # is, the column formats do the rest.
        for index in self._datetime_columns:
            value = values[index]
            if value.__class__ is dt.datetime and value.tzinfo is not None:
                values = list(values)
                values[index] = naive_local(value)
        try:
            self._ws.write_row(self._sheet_rows, 0, values)
        except TypeError:
            # A value of a type XlsxWriter does not know (a UUID, a lazy string): its text.
            self._ws.write_row(
                self._sheet_rows, 0, [v if isinstance(v, _NATIVE) else str(v) for v in values]
            )
        self._sheet_rows += 1

    def row(self, values: list) -> None:
        if self._pending is not None:
            self._pending.append(values)
            if len(self._pending) >= WIDTH_SAMPLE_ROWS:
                self._flush_pending()
        else:
            self._append(values)
        self.rows_written += 1

    def rows(self, rows) -> int:
        count = 0
        for values in rows:
            if self._pending is not None:
                self.row(values)
                count += 1
                continue
            self._append(values)
            count += 1
            self.rows_written += 1
        return count

    def _close(self) -> None:
        self._flush_pending()
        self._finish_sheet()
        sheets = self._wb.worksheets_objs
        if not sheets:
            self._wb.add_worksheet(self._sheet_title(self.title or "Export"))
        if self._summary_sheet is not None and sheets[0] is not self._summary_sheet:
            # The key figures come first even when a report computes them last; a sheet's
            # index names it in the workbook (autofilter ranges), so they follow the order.
            sheets.remove(self._summary_sheet)
            sheets.insert(0, self._summary_sheet)
            for index, sheet in enumerate(sheets):
                sheet.index = index
        self._wb.close()

    def _abort(self) -> None:
        # Constant-memory sheets keep their rows in temporary files that only closing the
        # workbook removes; close it, and the base class deletes the partial file.
        self._pending = None
        with contextlib.suppress(Exception):  # best effort on an error path
            self._wb.close()
