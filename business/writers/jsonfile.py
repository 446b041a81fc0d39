"""JSON (an array written incrementally) and JSON Lines (one object per line)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from business.writers.base import Column, Writer, naive_local

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


class JsonWriter(Writer):
    extension = "json"
    content_type = "application/json"

    def __init__(self, path, **kwargs):
        super().__init__(path, **kwargs)
        self._fh = open(self.path, "w", encoding="utf-8")  # noqa: SIM115  closed in close()
        self._keys: list[str] = []
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
        # Keys are encoded once per section, not per row.
        self._keys = [_dumps(c.name) + ": " for c in columns]

    def row(self, values: list) -> None:
        body = ", ".join(k + json_value(v) for k, v in zip(self._keys, values, strict=True))
        self._fh.write(("\n" if self._first_row else ",\n") + "{" + body + "}")
        self._first_row = False
        self.rows_written += 1

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
        self._keys: list[str] = []
        self._prefix = ""
        self._suffix = ""

    def _summary(self, title: str, items: list[tuple[str, Any]]) -> None:
        body = ", ".join(f"{_dumps(str(label))}: {json_value(value)}" for label, value in items)
        self._fh.write(f'{{"summary": {{{body}}}}}\n')

    def _section(self, title: str, columns: list[Column]) -> None:
        self._keys = [_dumps(c.name) + ": " for c in columns]
        if self.multi:
            self._prefix = f'{{"section": {_dumps(title)}, "row": {{'
            self._suffix = "}}\n"
        else:
            self._prefix, self._suffix = "{", "}\n"

    def row(self, values: list) -> None:
        body = ", ".join(k + json_value(v) for k, v in zip(self._keys, values, strict=True))
        self._fh.write(self._prefix + body + self._suffix)
        self.rows_written += 1

    def _close(self) -> None:
        self._fh.close()
