"""CSV: the csv module writing straight to the file, one row at a time."""

from __future__ import annotations

import csv
from typing import Any

from business.resources import FieldType
from business.writers.base import FORMULA_PREFIXES, Column, Writer, neutralize, text_value

# Python's str() of these differs from the CSV we promise (true/false, local ISO date-times,
# plain decimals); dates, integers and text are written as they are.
CONVERTED_TYPES = (FieldType.BOOLEAN, FieldType.DATETIME, FieldType.DECIMAL, FieldType.MONEY)


def row_converter(columns: list[Column]):
    """A function turning one row of values into CSV cells, generated for these columns.

    This runs once per row of exports of millions of rows: one generated expression per column
    (no loop, no call per cell) keeps Ferry's CSV within a few percent of bare ``csv.writer``
    (see bench/bench_export.py). Any string is neutralised whatever the column's type;
    ``neutralize`` is only called for the few that start with a formula character.
    """
    names = [f"v{i}" for i in range(len(columns))]
    parts = []
    for name, column in zip(names, columns, strict=True):
        text = f"N({name}) if {name}.__class__ is str and {name} and {name}[0] in P"
        if column.type == FieldType.BOOLEAN:
            other = f'{name} if {name} is None else ("true" if {name} else "false")'
        elif column.type in CONVERTED_TYPES:
            other = f"{name} if {name} is None else tv({name})"
        else:
            other = name
        parts.append(f"({text} else {other})")
    if not names:
        return lambda values: []
    source = (
        f"def convert(values):\n    {', '.join(names)}, = values\n"
        f"    return ({', '.join(parts)},)\n"
    )
    namespace: dict[str, Any] = {"P": "".join(FORMULA_PREFIXES), "N": neutralize, "tv": text_value}
    exec(source, namespace)  # noqa: S102  source built above from column positions only
    return namespace["convert"]


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

    def _close(self) -> None:
        self._fh.close()
