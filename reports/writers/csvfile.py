"""CSV: the csv module writing straight to the file, one row at a time."""

from __future__ import annotations

import csv
from typing import Any

from business.resources import FieldType
from reports.writers.base import FORMULA_PREFIXES, Column, Writer, neutralize, text_value

# Python's str() of these differs from the CSV we promise (true/false, local ISO date-times,
# plain decimals); dates, integers and text are written as they are.
CONVERTED_TYPES = (FieldType.BOOLEAN, FieldType.DATETIME, FieldType.DECIMAL, FieldType.MONEY)


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
        self._convert: list[int] = []

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
        self._convert = [i for i, c in enumerate(columns) if c.type in CONVERTED_TYPES]

    def row(self, values: list) -> None:
        # Text is checked in one comprehension; only the columns whose values the csv module
        # would not write as we want (booleans, date-times, decimals) are converted after it.
        out = [
            ("'" + v if v and v[0] in FORMULA_PREFIXES else v) if v.__class__ is str else v
            for v in values
        ]
        for index in self._convert:
            value = out[index]
            if value is not None and value.__class__ is not str:
                out[index] = text_value(value)
        self._writerow(out)
        self.rows_written += 1

    def _close(self) -> None:
        self._fh.close()
