"""XLSX through openpyxl's write-only workbook: rows go to disk as they arrive."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from accounts.formats import CURRENCY_SYMBOLS
from business.resources import FieldType
from business.writers.base import Column, Writer, naive_local

# Excel's hard limit of rows on one sheet (header included); a module constant so tests can
# exercise the split with a small number.
MAX_SHEET_ROWS = 1_048_576
# Rows looked at to size columns; write-only sheets need widths before the first row is written.
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
HEADER_FONT = Font(bold=True)
# Values a typed column writes as they come (text, a text cell made by _text, a boolean).
_AS_IS = (str, bool, Cell)
HEADER_FILL = PatternFill("solid", fgColor="E8EEF4")


def _text(ws, value: Any) -> Any:
    """Text that openpyxl would store as a formula (it starts with "=") as a text cell instead.

    No apostrophe is needed: a text cell is shown as it is and never evaluated, so
    ``=HYPERLINK(…)`` stays harmless text and a phone number keeps its "+".
    """
    if value.__class__ is str and value[:1] == "=":
        cell = WriteOnlyCell(ws, value)
        cell.data_type = "s"
        return cell
    return value


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
        self._wb = Workbook(write_only=True)
        self._titles: set[str] = set()
        self._ws = None
        self._sheet_rows = 0
        self._sheet_number = 1
        self._pending: list[list] | None = None
        self._cells: list[WriteOnlyCell | None] = []
        self._summary_sheet = None

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
        ws = self._wb.create_sheet(self._sheet_title(title or "Summary"))
        self._summary_sheet = ws
        ws.column_dimensions["A"].width = max([12] + [min(_width(k), MAX_WIDTH) for k, _ in items])
        ws.column_dimensions["B"].width = max(
            [12] + [min(_width(v) + 2, MAX_WIDTH) for _, v in items]
        )
        head = WriteOnlyCell(ws, self.title)
        head.data_type = "s"
        head.font = Font(bold=True, size=14)
        ws.append([head])
        lines = [self.organization_name, f"Generated {self.generated_at:%Y-%m-%d %H:%M}"]
        lines += self.filters_text
        for line in lines:
            if line:
                ws.append([_text(ws, line)])
        ws.append([])
        for label, value in items:
            key = WriteOnlyCell(ws, str(label))
            key.data_type = "s"
            key.font = HEADER_FONT
            ws.append([key, self._summary_cell(ws, value)])

    def _summary_cell(self, ws, value: Any):
        if isinstance(value, dt.datetime):
            value = naive_local(value)
        cell = WriteOnlyCell(ws, value)
        if isinstance(value, str):
            cell.data_type = "s"
        elif isinstance(value, Decimal | float):
            cell.number_format = "#,##0.00"
        elif isinstance(value, int) and not isinstance(value, bool):
            cell.number_format = "#,##0"
        elif isinstance(value, dt.date):
            cell.number_format = NUMBER_FORMATS[
                FieldType.DATETIME if isinstance(value, dt.datetime) else FieldType.DATE
            ]
        return cell

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
        width = get_column_letter(max(len(columns), 1))
        ws.auto_filter.ref = f"A1:{width}{last}"
        summed = [i for i, c in enumerate(columns) if c.summed]
        if summed and last > 1:
            cells: list[Any] = [None] * len(columns)
            for i in summed:
                letter = get_column_letter(i + 1)
                cell = WriteOnlyCell(ws, f"=SUBTOTAL(109,{letter}2:{letter}{last})")
                cell.font = HEADER_FONT
                cell.number_format = self._number_format(columns[i]) or "#,##0.00"
                cells[i] = cell
            label_at = next((i for i in range(len(columns)) if i not in summed), None)
            if label_at is not None:
                label = WriteOnlyCell(ws, "Total")
                label.font = HEADER_FONT
                cells[label_at] = label
            ws.append(cells)
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
        self._ws = self._wb.create_sheet(self._sheet_title(name))
        self._ws.freeze_panes = "A2"
        self._sheet_rows = 0
        # One styled cell per column, reused for every row: write-only sheets serialise a row
        # as soon as it is appended, so reusing the objects is safe and saves an allocation
        # per cell.
        self._cells = []
        # The sheet's own columns: by the time its pending rows are flushed (when the next
        # section starts) ``self.columns`` already holds the next section's columns.
        self._sheet_columns = list(self.columns)
        for column in self.columns:
            fmt = self._number_format(column)
            if fmt is None:
                self._cells.append(None)
                continue
            cell = WriteOnlyCell(self._ws)
            cell.number_format = fmt
            self._cells.append(cell)
        self._styled = [(i, c) for i, c in enumerate(self._cells) if c is not None]
        # Leave room for the totals row when the table has one.
        self._sheet_limit = MAX_SHEET_ROWS - any(c.summed for c in self._sheet_columns)
        self._pending = []

    def _flush_pending(self) -> None:
        """Size the columns from the header and the first rows, then write them."""
        if self._pending is None:
            return
        ws, pending = self._ws, self._pending
        self._pending = None
        for index, column in enumerate(self._sheet_columns):
            width = max([_width(column.label) + 2] + [_width(r[index]) + 1 for r in pending])
            ws.column_dimensions[get_column_letter(index + 1)].width = max(
                MIN_WIDTH, min(MAX_WIDTH, width)
            )
        header = []
        for column in self._sheet_columns:
            cell = WriteOnlyCell(ws, column.label)
            cell.data_type = "s"
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(vertical="center")
            header.append(cell)
        ws.append(header)
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
        # One comprehension for the common case (text), then only the typed columns: this
        # loop runs once per row of a million-row export.
        ws = self._ws
        out = [_text(ws, v) if v.__class__ is str and v[:1] == "=" else v for v in values]
        for index, proto in self._styled:
            value = out[index]
            if value is None or value.__class__ in _AS_IS:
                continue
            if value.__class__ is dt.datetime:
                value = naive_local(value)
            proto.value = value
            out[index] = proto
        self._ws.append(out)
        self._sheet_rows += 1

    def row(self, values: list) -> None:
        if self._pending is not None:
            self._pending.append(values)
            if len(self._pending) >= WIDTH_SAMPLE_ROWS:
                self._flush_pending()
        else:
            self._append(values)
        self.rows_written += 1

    def _close(self) -> None:
        self._flush_pending()
        self._finish_sheet()
        if not self._wb._sheets:
            self._wb.create_sheet(self._sheet_title(self.title or "Export"))
        if self._summary_sheet is not None and self._wb._sheets[0] is not self._summary_sheet:
            # The key figures come first even when a report computes them last.
            self._wb._sheets.remove(self._summary_sheet)
            self._wb._sheets.insert(0, self._summary_sheet)
        self._wb.save(self.path)

    def _abort(self) -> None:
        # A write-only workbook keeps its sheets in temporary files that only saving removes;
        # save, and the base class deletes the partial file.
        self._pending = None
        if not self._wb._sheets:
            return
        with contextlib.suppress(Exception):  # best effort on an error path
            self._wb.save(self.path)
