"""JSON (an array written incrementally) and JSON Lines (one object per line).

Each row's object is one compiled function (``object_converter``): a million-row export pays
no loop over its cells and no call per cell for the usual types.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from business.resources import FieldType
from business.writers.base import Column, Converters, Writer, naive_local, row_function

_dumps = json.JSONEncoder(ensure_ascii=False).encode


def json_value(value: Any) -> str:
    """One value as JSON text. Decimals stay exact numbers (no float rounding)."""
    if value is None or isinstance(value, bool | int | str | float):
        return _dumps(value)
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else "null"
    if isinstance(value, dt.datetime):
        return _dumps(naive_local(value).isoformat(timespec="seconds"))
    if isinstance(value, dt.date | dt.time):
        return _dumps(value.isoformat())
    return _dumps(str(value))


def object_converter(
    columns: list[Column], converters: Converters | None = None, *, prefix="{", suffix="}"
):
    """A function turning one row into its JSON object's text, compiled for these columns
    (``row_function``): the keys encoded once, the usual cell types of each column (text, None,
    booleans, dates, integers) written inline and anything else through ``json_value``, which
    decides every case the same way. With ``converters``, the row is as the database returned
    it (``Writer.chunk``)."""
    cells = []
    for index, column in enumerate(columns):
        v = f"v{index}"
        if column.type == FieldType.BOOLEAN:
            cell = f'"true" if {v} is True else "false" if {v} is False else'
        elif column.type == FieldType.DATE:
            cell = f"'\"' + {v}.isoformat() + '\"' if {v}.__class__ is D else"
        elif column.type == FieldType.INTEGER:
            cell = f"repr({v}) if {v}.__class__ is int else"
        else:
            cell = f"E({v}) if {v}.__class__ is str else"
        cells.append(f'({cell} "null" if {v} is None else J({v}))')
    keys = ", ".join(_dumps(c.name).replace("%", "%%") + ": %s" for c in columns)
    template = prefix.replace("%", "%%") + keys + suffix.replace("%", "%%")
    namespace = {"E": json.encoder.encode_basestring, "J": json_value, "D": dt.date}
    return row_function(cells, namespace, converters=converters, result=template)


class JsonWriter(Writer):
    extension = "json"
    content_type = "application/json"

    def __init__(self, path, **kwargs):
        super().__init__(path, **kwargs)
        self._fh = open(self.path, "w", encoding="utf-8")  # noqa: SIM115  closed in close()
        self._object = self._object_db = None
        self._first_row = True
        self._object_open = False  # the {"summary": ..., "<section>": [...]} wrapper
        self._array_open = False

    def _open_object(self) -> None:
        if not self._object_open:
            self._fh.write("{")
            self._object_open = True
        else:
            self._fh.write(",")

    def _close_array(self) -> None:
        if self._array_open:
            self._fh.write("\n]")
            self._array_open = False

    def _summary(self, title: str, items: list[tuple[str, Any]]) -> None:
        self._close_array()
        self._open_object()
        body = ", ".join(f"{_dumps(str(label))}: {json_value(value)}" for label, value in items)
        self._fh.write(f"\n{_dumps('summary')}: {{{body}}}")

    def _section(self, title: str, columns: list[Column]) -> None:
        self._close_array()
        if self.multi:
            self._open_object()
            self._fh.write(f"\n{_dumps(title)}: ")
        self._fh.write("[")
        self._array_open = True
        self._first_row = True
        self._object = object_converter(columns)
        self._object_db = None  # with the section's converters, compiled on the first chunk

    def row(self, values: list) -> None:
        self._fh.write(("\n" if self._first_row else ",\n") + self._object(values))
        self._first_row = False
        self.rows_written += 1

    def chunk(self, rows: list) -> int:
        if not rows:
            return 0
        if self._object_db is None:
            self._object_db = object_converter(self.columns, self.converters)
        objects = ",\n".join(map(self._object_db, rows))
        self._fh.write(("\n" if self._first_row else ",\n") + objects)
        self._first_row = False
        self.rows_written += len(rows)
        return len(rows)

    def _close(self) -> None:
        if not self.sections and not self._object_open:
            self._fh.write("[]")
        self._close_array()
        if self._object_open:
            self._fh.write("\n}")
        self._fh.write("\n")
        self._fh.close()

    def _abort(self) -> None:
        self._fh.close()


class JsonLinesWriter(Writer):
    """Plain: one object per row. Multi-section: {"summary": ...} and {"section": t, "row": {...}}."""

    extension = "jsonl"
    content_type = "application/x-ndjson"

    def __init__(self, path, **kwargs):
        super().__init__(path, **kwargs)
        self._fh = open(self.path, "w", encoding="utf-8")  # noqa: SIM115  closed in close()
        self._prefix = ""
        self._suffix = ""
        self._object = self._object_db = None

    def _summary(self, title: str, items: list[tuple[str, Any]]) -> None:
        body = ", ".join(f"{_dumps(str(label))}: {json_value(value)}" for label, value in items)
        self._fh.write(f'{{"summary": {{{body}}}}}\n')

    def _section(self, title: str, columns: list[Column]) -> None:
        if self.multi:
            self._prefix = f'{{"section": {_dumps(title)}, "row": {{'
            self._suffix = "}}\n"
        else:
            self._prefix, self._suffix = "{", "}\n"
        self._object = object_converter(columns, prefix=self._prefix, suffix=self._suffix)
        self._object_db = None  # with the section's converters, compiled on the first chunk

    def row(self, values: list) -> None:
        self._fh.write(self._object(values))
        self.rows_written += 1

    def chunk(self, rows: list) -> int:
        if self._object_db is None:
            self._object_db = object_converter(
                self.columns, self.converters, prefix=self._prefix, suffix=self._suffix
            )
        self._fh.write("".join(map(self._object_db, rows)))
        self.rows_written += len(rows)
        return len(rows)

    def _close(self) -> None:
        self._fh.close()
