"""CSV: the csv module writing straight to the file, a row or a whole chunk of rows at a time."""

from __future__ import annotations

import csv
from typing import Any

from business.resources import FieldType
from business.writers.base import (
    FORMULA_BELOW,
    FORMULA_RISK,
    Column,
    Converters,
    Writer,
    neutralize,
    row_function,
    text_value,
)

# Python's str() of these differs from the CSV we promise (true/false, local ISO date-times,
# plain decimals); dates, integers and text are written as they are.
CONVERTED_TYPES = (FieldType.BOOLEAN, FieldType.DATETIME, FieldType.DECIMAL, FieldType.MONEY)


def row_converter(columns: list[Column], converters: Converters | None = None):
    """A function turning one row into CSV cells, compiled for these columns (``row_function``).

    With ``converters``, the row is as the database returned it and each column's converter runs
    first (``Writer.chunk``). Any string is neutralised whatever the column's type. Only a
    string sorting before ``FORMULA_BELOW`` is matched against the rule (``FORMULA_RISK``),
    and ``neutralize`` only called for those it matches: a name costs one comparison, a phone
    number (+33 …) one match.
    """
    cells = []
    for index, column in enumerate(columns):
        name = f"v{index}"
        text = f"N({name}) if {name}.__class__ is str and {name} < B and R({name})"
        if column.type == FieldType.BOOLEAN:
            other = f'{name} if {name} is None else ("true" if {name} else "false")'
        elif column.type in CONVERTED_TYPES:
            other = f"{name} if {name} is None else tv({name})"
        else:
            other = name
        cells.append(f"({text} else {other})")
    namespace = {
        "B": FORMULA_BELOW,
        "R": FORMULA_RISK.match,
        "N": neutralize,
        "tv": text_value,
    }
    return row_function(cells, namespace, converters=converters)


class CsvWriter(Writer):
    """Options: ``delimiter`` (default ","), ``bom`` (a UTF-8 BOM so Excel reads accents)."""

    extension = "csv"
    content_type = "text/csv"

    def __init__(self, path, **kwargs):
        super().__init__(path, **kwargs)
        delimiter = self.options.get("delimiter") or ","
        if delimiter == "\\t":
            delimiter = "\t"
        encoding = "utf-8-sig" if self.options.get("bom") else "utf-8"
        self._fh = open(self.path, "w", encoding=encoding, newline="")  # noqa: SIM115  closed in close()
        self._csv = csv.writer(self._fh, delimiter=delimiter, lineterminator="\r\n")
        self._started = False
        self._writerow = self._csv.writerow
        self._convert = row_converter([])
        self._convert_db = None  # with the section's converters, compiled on the first chunk

    def _separate(self, title: str) -> None:
        # Sections are told apart by a blank line and then their title on a line of its own.
        if self._started:
            self._csv.writerow([])
        self._csv.writerow([title])
        self._started = True

    def _summary(self, title: str, items: list[tuple[str, Any]]) -> None:
        self._separate(title)
        for label, value in items:
            self._csv.writerow([neutralize(label), neutralize(text_value(value))])

    def _section(self, title: str, columns: list[Column]) -> None:
        if self.multi:
            self._separate(title)
        self._started = True
        self._csv.writerow([neutralize(c.label) for c in columns])
        self._convert = row_converter(columns)
        self._convert_db = None

    def row(self, values: list) -> None:
        self._writerow(self._convert(values))
        self.rows_written += 1

    def rows(self, rows) -> int:
        count = 0
        convert, writerow = self._convert, self._writerow
        for values in rows:
            writerow(convert(values))
            count += 1
        self.rows_written += count
        return count

    def chunk(self, rows: list) -> int:
        # The database's values go through one compiled function and csv's own loop: no Python
        # loop and no intermediate row per row.
        if self._convert_db is None:
            self._convert_db = row_converter(self.columns, self.converters)
        self._csv.writerows(map(self._convert_db, rows))
        self.rows_written += len(rows)
        return len(rows)

    def _close(self) -> None:
        self._fh.close()
