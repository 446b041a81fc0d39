"""CSV: the csv module writing straight to the file, one row at a time."""

from __future__ import annotations

import csv
from typing import Any

from reports.writers.base import Column, Writer, neutralize, text_value


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

    def row(self, values: list) -> None:
        out = []
        for value in values:
            if value is None:
                out.append("")
            elif isinstance(value, str):
                out.append(neutralize(value))
            else:
                # Numbers, dates and booleans are never formulas; no prefix for them.
                out.append(text_value(value))
        self._csv.writerow(out)
        self.rows_written += 1

    def _close(self) -> None:
        self._fh.close()
