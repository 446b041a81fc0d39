"""CSV: the csv module writing straight to the file, a row or a whole chunk of rows at a time;
the database's chunks as lines of text when no cell needs quotes (``CsvWriter.chunk``)."""

from __future__ import annotations

import csv
from collections.abc import Collection
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
# Columns whose values are never text as the database returns them (``text_columns``).
NOT_TEXT_TYPES = (*CONVERTED_TYPES, FieldType.DATE, FieldType.INTEGER)
# How many rows of the first chunk ``text_columns`` looks at.
TEXT_SAMPLE = 500
LINE_END = "\r\n"


def row_converter(
    columns: list[Column],
    converters: Converters | None = None,
    *,
    text: Collection[int] = (),
    delimiter: str | None = None,
):
    """A function turning one row into CSV cells, compiled for these columns (``row_function``).

    With ``converters``, the row is as the database returned it and each column's converter runs
    first (``Writer.chunk``). Any string is neutralised whatever the column's type. Only a
    string sorting before ``FORMULA_BELOW`` is matched against the rule (``FORMULA_RISK``),
    and ``neutralize`` only called for those it matches: a name costs one comparison, a phone
    number (+33 …) one match.

    ``text``: the indexes of columns known to hold text (``text_columns``). Their cells skip the
    type test (``not v or v >= B``); a row where one of them holds something else after all
    raises in there and is written by the exact form instead (the same function without
    ``text``), so the bytes never depend on the guess.

    With a ``delimiter``, the function returns the row's line as ``csv.writer`` would write it
    if no cell needed quotes: the cells joined by it, None as "", ``LINE_END`` at the end (the
    cells are the same; ``plain_lines`` says when that line is the one to keep).
    """
    line = delimiter is not None
    cells = []
    for index, column in enumerate(columns):
        name = f"v{index}"
        if index in text:
            risky = f"N({name}) if {name}.__class__ is str else {name}"  # as the exact form
            guarded = f"{name} if {name} >= B or not R({name}) else {risky}"
            if line:
                cells.append(f'(({guarded}) if {name} else "" if {name} is None else {name})')
            else:
                cells.append(f"({name} if not {name} or {name} >= B or not R({name}) else {risky})")
            continue
        text_cell = f"N({name}) if {name}.__class__ is str and {name} < B and R({name})"
        # What None is written as: csv.writer writes "" itself, the line needs it in place.
        when_none = '""' if line else name
        if column.type == FieldType.BOOLEAN:
            # True and False first: what a boolean column holds but for None.
            first = f'"true" if {name} is True else "false" if {name} is False else '
            other = f'{when_none} if {name} is None else ("true" if {name} else "false")'
            cells.append(f"({first}{text_cell} else {other})")
            continue
        if column.type in CONVERTED_TYPES:
            other = f"{when_none} if {name} is None else tv({name})"
        else:
            other = name if not line else f"{when_none} if {name} is None else {name}"
        cells.append(f"({text_cell} else {other})")
    namespace = {
        "B": FORMULA_BELOW,
        "R": FORMULA_RISK.match,
        "N": neutralize,
        "tv": text_value,
    }
    fallback = row_converter(columns, delimiter=delimiter) if text else None
    result = "tuple"
    if line:
        # str() of each cell, as csv.writer takes any value that is not a string.
        result = delimiter.replace("%", "%%").join(["%s"] * len(columns)) + LINE_END
    return row_function(cells, namespace, converters=converters, result=result, fallback=fallback)


def plain_lines(text: str, rows: int, columns: int, delimiter: str) -> bool:
    """Whether ``text``, ``rows`` lines of ``row_converter(..., delimiter=...)``, is what
    ``csv.writer`` writes for those rows: no cell holds the delimiter, a quote or a line break,
    the characters that make csv quote a cell (counted over the whole text: each line has its
    ``columns - 1`` delimiters and one line end). A NUL, which csv writes as it is today, is
    left to csv too, in case a Python version quotes it."""
    return (
        text.count(delimiter) == rows * (columns - 1)
        and text.count("\n") == rows
        and text.count("\r") == rows
        and '"' not in text
        and "\0" not in text
    )


def fast_delimiter(delimiter: str, columns: int) -> bool:
    """Whether lines can be written without csv (``plain_lines``): not with a one-column row
    (csv writes an empty one as ``""``), nor with a delimiter that is one of the other
    characters counted."""
    return columns > 1 and delimiter not in '"\r\n\0'


def text_columns(columns: list[Column], rows: list[tuple]) -> set[int]:
    """The columns of a text type whose values in ``rows`` (Python values) are strings or
    None, with at least one string: the ones ``row_converter`` may write without a type test."""
    found = set()
    for index, column in enumerate(columns):
        if column.type in NOT_TEXT_TYPES:
            continue
        kinds = {value.__class__ for row in rows if (value := row[index]) is not None}
        if kinds == {str}:
            found.add(index)
    return found


class _Echo:
    write = str


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
        self._csv = csv.writer(self._fh, delimiter=delimiter, lineterminator=LINE_END)
        self._delimiter = delimiter
        self._started = False
        self._writerow = self._csv.writerow
        # One row's line as text: csv.writer returns what its file's write returns.
        self._csv_line = csv.writer(_Echo(), delimiter=delimiter, lineterminator=LINE_END).writerow
        self._convert = row_converter([])
        self._convert_db = None  # with the section's converters, compiled on the first chunk
        self._line_db = None  # the same as lines (``plain_lines``), when the delimiter allows

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
        self._convert_db = self._line_db = None

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
        # The database's values go through one compiled function per row, which writes the
        # row's line itself: csv.writer's own loop over the cells costs more than all the
        # rest (0.43 of 0.68 s CPU for 200k contacts, bench/bench_export.py). A chunk whose
        # lines are not all plain (``plain_lines``) has csv.writer write the rows that need
        # quotes (``_chunk_mixed``).
        if self._convert_db is None:
            # Which columns hold text, from the first rows as Python values.
            sample = list(map(self.python_values(), rows[:TEXT_SAMPLE]))
            text = text_columns(self.columns, sample)
            self._convert_db = row_converter(self.columns, self.converters, text=text)
            if fast_delimiter(self._delimiter, len(self.columns)):
                self._line_db = row_converter(
                    self.columns, self.converters, text=text, delimiter=self._delimiter
                )
        if self._line_db is None:
            self._csv.writerows(map(self._convert_db, rows))
        else:
            lines = list(map(self._line_db, rows))
            text = "".join(lines)
            if plain_lines(text, len(rows), len(self.columns), self._delimiter):
                self._fh.write(text)
            else:
                self._chunk_mixed(rows, lines)
        self.rows_written += len(rows)
        return len(rows)

    def _chunk_mixed(self, rows: list, lines: list[str]) -> None:
        """A chunk some of whose lines are not plain: those rows are written by csv.writer,
        in their place among the others (a cell with a comma in 0.1 % of the rows puts one in
        most chunks)."""
        columns, delimiter = len(self.columns), self._delimiter
        quoted = [i for i, line in enumerate(lines) if not plain_lines(line, 1, columns, delimiter)]
        csv_line, cells_of = self._csv_line, self._convert_db
        for i in quoted:
            lines[i] = csv_line(cells_of(rows[i]))
        self._fh.write("".join(lines))
        if len(quoted) * 2 > len(rows):
            # Most rows need quotes (an address column with commas in it): csv.writer alone
            # from now on, rather than every row twice.
            self._line_db = None

    def _close(self) -> None:
        self._fh.close()
