"""The streaming writer interface shared by the export builder and the ready-made reports.

A writer receives an optional key-figures block (``summary``), then one or more tables
(``section`` followed by ``row`` calls) and ``close``. Writers never hold all rows: each row is
written (or, for PDF, rendered in a bounded chunk) as it arrives.

Layout rule for CSV and JSON: a first section that is not preceded by ``summary()`` is written
plain (CSV: header and rows; JSON: an array of objects; JSON Lines: one object per line) so a
single-table export re-imports through the import wizard. Calling ``summary()`` first, or passing
``options={"sections": True}``, switches to the multi-section layout.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils import timezone

from business.resources import FieldType
from jobs.errors import FerryError

# Spreadsheet programs run a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A value made only of these is a phone number (+41 44 668 18 00) or a signed amount (-12.50):
# at worst a spreadsheet reads it as a number, it cannot call anything, so it is left as is.
_PLAIN_NUMBER = re.compile(r"[0-9 ().,+-]+")
NUMERIC_TYPES = (FieldType.INTEGER, FieldType.DECIMAL, FieldType.MONEY)

FORMATS: dict[str, str] = {
    "csv": "CSV",
    "xlsx": "Excel (XLSX)",
    "json": "JSON",
    "jsonl": "JSON Lines",
    "pdf": "PDF",
}


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    type: str = FieldType.TEXT
    # Whether a table's totals row sums this column; by default amounts (money) are summed.
    total: bool | None = None
    # A code (WH-SOUTH, SKU-0042, SO-1001) is never broken across lines in print.
    nowrap: bool = False

    @property
    def summed(self) -> bool:
        return self.type == FieldType.MONEY if self.total is None else self.total


class UnknownFormat(FerryError):
    def __init__(self, format: str):
        super().__init__(
            f"Unknown export format '{format}'. Choose one of: {', '.join(FORMATS)}.",
            code="unknown_format",
        )


def formula_risk(text: str) -> bool:
    """Whether a spreadsheet could run ``text`` (``=HYPERLINK(…)``, ``@SUM(…)``, ``+cmd|…``)."""
    return bool(text) and text[0] in FORMULA_PREFIXES and not _PLAIN_NUMBER.fullmatch(text)


def neutralize(value: Any) -> Any:
    """Text that a spreadsheet could run as a formula, with an apostrophe before it (CSV).

    Numbers, and text made only of digits, spaces and ``( ) . , + -`` (phone numbers, signed
    amounts), are left alone: other programs would read the apostrophe as part of the data.
    XLSX needs no apostrophe at all: its text cells are never evaluated.
    """
    if isinstance(value, str) and formula_risk(value):
        return "'" + value
    return value


def neutralize_undo(text: str) -> str:
    """The value an import should keep from a cell Ferry wrote: one apostrophe before a
    formula character is dropped. Earlier Ferry versions also guarded phone numbers and signed
    amounts (``'+41 …``, ``'-12.50``), so the apostrophe goes before any formula character."""
    if text[:1] == "'" and text[1:2] and text[1] in FORMULA_PREFIXES:
        return text[1:]
    return text


def naive_local(value: dt.datetime) -> dt.datetime:
    """Spreadsheets have no time zones: show aware datetimes in the site's local time."""
    if timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def text_value(value: Any) -> str:
    """The plain-text form of a value for CSV (ISO dates, '.' decimals, true/false)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return naive_local(value).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def display_value(value: Any, type: str) -> str:
    """The human form of a value for PDF pages (thousands separators, Yes/No)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.datetime):
        return naive_local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | float) and not isinstance(value, bool):
        if type == FieldType.MONEY:
            return f"{value:,.2f}"
        text = f"{value:,.2f}" if isinstance(value, float) else f"{value:,f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, int):
        return f"{value:,}" if type in NUMERIC_TYPES else str(value)
    return str(value)


class Writer(ABC):
    """Base class; subclasses implement ``_summary``, ``_section``, ``row`` and ``_close``."""

    extension: str = ""
    content_type: str = "application/octet-stream"

    def __init__(
        self,
        path,
        *,
        title: str,
        organization_name: str = "",
        filters_text: list[str] | None = None,
        options: dict | None = None,
    ):
        self.path = Path(path)
        self.title = title
        self.organization_name = organization_name
        self.filters_text = list(filters_text or [])
        self.options = dict(options or {})
        self.generated_at = timezone.localtime(timezone.now())
        self.columns: list[Column] = []
        self.section_title = ""
        self.sections = 0
        self.rows_written = 0
        self.has_summary = False
        self.closed = False
        # Multi-section layout when asked for, or as soon as a summary block was written.
        self.multi = bool(self.options.get("sections"))

    # --- public API -----------------------------------------------------------------------
    def summary(self, title: str, items: list[tuple[str, Any]]) -> None:
        self.has_summary = True
        self.multi = True
        self._summary(title, list(items))

    def section(self, title: str, columns: list[Column]) -> None:
        if self.sections and not self.multi:
            raise ValueError(
                "A plain single-table export cannot take a second section: call summary() "
                "first or pass options={'sections': True}."
            )
        self.columns = list(columns)
        self.section_title = title
        self.sections += 1
        self._section(title, self.columns)

    @abstractmethod
    def row(self, values: list) -> None:
        """Write one row of the current section."""

    def rows(self, rows) -> int:
        """Write many rows; returns how many. Writers may loop faster than ``row`` per row."""
        count = 0
        row = self.row
        for values in rows:
            row(values)
            count += 1
        return count

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._close()

    def abort(self) -> None:
        """Stop writing and remove the partial file, so nothing half-written is kept."""
        try:
            self.closed = True
            self._abort()
        finally:
            if self.path.exists():
                os.unlink(self.path)

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # --- for subclasses -------------------------------------------------------------------
    @abstractmethod
    def _summary(self, title: str, items: list[tuple[str, Any]]) -> None:
        """Write the key-figures block."""

    @abstractmethod
    def _section(self, title: str, columns: list[Column]) -> None:
        """Start a table (sheet, CSV block, JSON key, PDF table)."""

    @abstractmethod
    def _close(self) -> None:
        """Finish the file."""

    def _abort(self) -> None:
        self._close()
