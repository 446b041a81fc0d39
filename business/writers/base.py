"""The streaming writer interface shared by the export builder and the ready-made reports.

A writer receives an optional key-figures block (``summary``), then one or more tables
(``section`` followed by ``row`` calls) and ``close``. Writers never hold all rows: each row is
written (or, for PDF, rendered in a bounded chunk) as it arrives.

Layout rule for CSV and JSON: a first section that is not preceded by ``summary()`` is written
plain (CSV: header and rows; JSON: an array of objects; JSON Lines: one object per line) so a
single-table export re-imports through the import wizard. Calling ``summary()`` first, or passing
``options={"sections": True}``, switches to the multi-section layout.

Two ways to hand rows over: ``row``/``rows`` take Python values (the reports), ``chunk`` takes a
list of rows as the database cursor returned them, with the section's ``converters`` turning each
cell into its Python value (the resource exports, millions of rows). CSV and JSON compile the
converters and their own formatting into one function per row; other writers apply the
converters and go through ``rows``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
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
# The whole rule as one pattern: a formula character first, and not a plain number.
FORMULA_RISK = re.compile(rf"(?![0-9 ().,+-]+\Z)[{re.escape(''.join(FORMULA_PREFIXES))}]")
# Every formula character sorts before this one ("A"): a text that does not sort before it
# needs no look at all, which is most names, e-mails and codes (one comparison per cell).
FORMULA_BELOW = chr(ord(max(FORMULA_PREFIXES)) + 1)
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


class Call:
    """A converter called with more arguments after the value: ``func(value, *args)``.

    Django's converters take ``(value, expression, connection)``; a wrapper per column (a
    lambda) would cost a second Python call per cell, so ``row_function`` writes the call itself
    into the row's function. Called directly, it does the same."""

    __slots__ = ("args", "func")

    def __init__(self, func: Callable[..., Any], *args: Any):
        self.func = func
        self.args = args

    def __call__(self, value: Any) -> Any:
        return self.func(value, *self.args)


class Steps(tuple):
    """Converters applied one after the other (each a function of the value or a ``Call``);
    ``row_function`` nests them into one expression."""

    def __call__(self, value: Any) -> Any:
        for step in self:
            value = step(value)
        return value

    @classmethod
    def then(cls, first, convert) -> Any:
        """``convert`` applied after ``first`` (None: nothing before)."""
        if first is None:
            return convert
        before = tuple(first) if isinstance(first, Steps) else (first,)
        return cls((*before, convert))


# Converters: per column, a function turning what the database returned into the Python value
# (or a ``Call``, or ``Steps`` of them), or None when the value is used as it is.
Converters = Sequence[Callable[[Any], Any] | None]


def _converter_expression(index: int, convert, namespace: dict[str, Any]) -> str:
    """The Python expression applying ``convert`` to ``v<index>``; its functions and arguments
    are put into ``namespace``, the source only names them."""
    expression = f"v{index}"
    steps = convert if isinstance(convert, Steps) else (convert,)
    for k, step in enumerate(steps):
        name = f"c{index}_{k}"
        if isinstance(step, Call):
            namespace[name] = step.func
            arguments = [expression]
            for j, argument in enumerate(step.args):
                namespace[f"{name}_{j}"] = argument
                arguments.append(f"{name}_{j}")
            expression = f"{name}({', '.join(arguments)})"
        else:
            namespace[name] = step
            expression = f"{name}({expression})"
    return expression


def row_function(
    cells: list[str],
    namespace: dict[str, Any],
    *,
    converters: Converters | None = None,
    result: str = "tuple",
    fallback: Callable[[tuple], Any] | None = None,
):
    """A function of one row (a sequence of ``len(cells)`` values) compiled from one Python
    expression per column, each reading its value as ``v<i>`` — after the column's converter,
    when it has one, was applied to it.

    The writers run this once per row of exports of millions of rows: one generated function
    with the columns unrolled (no loop over cells, no call per cell but the converters) is what
    keeps them close to bare ``csv.writer`` (bench/bench_export.py). ``result`` is "tuple", or a
    ``%``-format string taking the cells' texts in order (JSON). With ``fallback``, a row whose
    cells raise (a guess about a column's values that this row does not fit) is handed to it as
    the tuple of its converted values instead. The source is built from column positions and
    the writers' own fixed snippets only, never from data.
    """
    names = [f"v{i}" for i in range(len(cells))]
    namespace = dict(namespace)
    lines = [f"    {', '.join(names)}, = values"] if names else []
    for index, convert in enumerate(converters or ()):
        if convert is not None:
            lines.append(f"    v{index} = {_converter_expression(index, convert, namespace)}")
    joined = ", ".join(cells)
    if result == "tuple":
        body = f"({joined},)" if cells else "()"
    else:
        body = f"{result!r} % ({joined},)" if cells else f"{result!r} % ()"
    source = "def convert(values):\n" + "".join(f"{line}\n" for line in lines)
    if fallback is None:
        source += f"    return {body}\n"
    else:
        namespace["fallback"] = fallback
        values = f"({', '.join(names)},)" if names else "()"
        source += f"    try:\n        return {body}\n    except Exception:\n"
        source += f"        return fallback({values})\n"
    exec(source, namespace)  # noqa: S102  see the docstring: no data in the source
    return namespace["convert"]


def formula_risk(text: str) -> bool:
    """Whether a spreadsheet could run ``text`` (``=HYPERLINK(…)``, ``@SUM(…)``, ``+cmd|…``)."""
    return FORMULA_RISK.match(text) is not None


def neutralize(value: Any) -> Any:
    """Text that a spreadsheet could run as a formula, with an apostrophe before it (CSV).

    Numbers, and text made only of digits, spaces and ``( ) . , + -`` (phone numbers, signed
    amounts), are left alone: other programs would read the apostrophe as part of the data.
    XLSX needs no apostrophe at all: its text cells are never evaluated.
    """
    if isinstance(value, str) and FORMULA_RISK.match(value) is not None:
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
        self.converters: list = []
        self._values = None  # the section's converters compiled for ``chunk`` (on first use)
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

    def section(
        self, title: str, columns: list[Column], *, converters: Converters | None = None
    ) -> None:
        """Start a table. ``converters`` (one per column, None for "as is") are what ``chunk``
        applies to the database's values; ``row`` and ``rows`` take Python values."""
        if self.sections and not self.multi:
            raise ValueError(
                "A plain single-table export cannot take a second section: call summary() "
                "first or pass options={'sections': True}."
            )
        self.columns = list(columns)
        self.converters = list(converters) if converters else [None] * len(self.columns)
        if len(self.converters) != len(self.columns):
            raise ValueError("One converter (or None) per column.")
        self._values = None
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

    def chunk(self, rows: list) -> int:
        """Write a list of rows as the database returned them (the section's converters turn
        them into Python values); returns how many. CSV and JSON do it in one compiled step."""
        if not any(self.converters):
            return self.rows(rows)
        return self.rows(map(self.python_values(), rows))

    def python_values(self) -> Callable[[Sequence], tuple]:
        """The section's converters as one function: a database row → its Python values."""
        if self._values is None:
            cells = [f"v{i}" for i in range(len(self.columns))]
            self._values = row_function(cells, {}, converters=self.converters)
        return self._values

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
