"""Inserting a batch of new rows fast, with their primary keys known.

``bulk_create`` spends most of its time in Python, per field and per row (pre_save,
get_db_prep_save, SQL compilation), and on SQLite Django still caps a statement at 999
parameters, i.e. ~70 rows. The engine already holds clean, typed values, so here:

- primary keys are reserved first: on PostgreSQL from the table's sequence (one query), on
  SQLite above both MAX(id) and the AUTOINCREMENT counter — safe because the caller holds the
  write transaction (SQLite has one writer, and Ferry opens transactions IMMEDIATE);
- PostgreSQL rows go through ``COPY … FROM STDIN`` (psycopg 3), SQLite rows through
  ``executemany`` of one prepared INSERT (the sqlite3 module loops in C).

Only columns that need it are converted (aware date-times, JSON). Set FERRY_IMPORT_WRITER=bulk
to use Django's bulk_create instead (the benchmark compares both).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

WRITER = os.environ.get("FERRY_IMPORT_WRITER", "fast")


def fast_writer_enabled() -> bool:
    return WRITER != "bulk" and connection.vendor in ("sqlite", "postgresql")


class TableInserter:
    """Inserts dictionaries of attribute values into one model's table."""

    def __init__(self, model: type[models.Model]):
        self.model = model
        meta = model._meta
        self.table = meta.db_table
        pk = meta.pk
        self.pk_column = pk.column
        self.fields = [f for f in meta.concrete_fields if f is not pk]
        self.attnames = [f.attname for f in self.fields]
        self.auto_now = [
            f.attname
            for f in self.fields
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ]
        vendor = connection.vendor
        self.vendor = vendor
        converters: list[Any] = []
        for f in self.fields:
            if isinstance(f, models.JSONField) or (
                vendor == "sqlite" and isinstance(f, models.DateTimeField)
            ):
                converters.append(_prep(f))
            else:
                converters.append(None)
        self.converters = converters
        qn = connection.ops.quote_name
        self.columns = ", ".join(qn(c) for c in [self.pk_column, *(f.column for f in self.fields)])
        self.qtable = qn(self.table)

    def insert(self, rows: Sequence[dict[str, Any]], *, now) -> list[int]:
        """Insert the rows; returns their new primary keys in order."""
        if not rows:
            return []
        ids = self._reserve(len(rows))
        attnames = self.attnames
        auto = set(self.auto_now)
        # Every row gets the same timestamp: convert it once, not once per row.
        stamps = []
        converted = []
        for i, (f, convert) in enumerate(zip(self.fields, self.converters, strict=True), start=1):
            if f.attname in auto:
                stamps.append((i, now if convert is None or now is None else convert(now)))
            elif convert is not None:
                converted.append((i, convert))
        params = []
        append = params.append
        for pk, values in zip(ids, rows, strict=True):
            get = values.get
            out = [pk, *map(get, attnames)]
            for i, stamp in stamps:
                out[i] = stamp
            for i, convert in converted:
                if out[i] is not None:
                    out[i] = convert(out[i])
            append(out)
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if self.vendor == "postgresql":
                with raw.copy(f"COPY {self.qtable} ({self.columns}) FROM STDIN") as copy:
                    write = copy.write_row
                    for row in params:
                        write(row)
            else:
                marks = ", ".join(["?"] * (len(attnames) + 1))
                # The raw sqlite3 cursor: Django's wrapper would rewrite the query per call.
                raw_cursor = _sqlite_cursor(raw)
                raw_cursor.executemany(
                    f"INSERT INTO {self.qtable} ({self.columns}) VALUES ({marks})", params
                )
        return ids

    def update(self, objs: Sequence[models.Model], attnames: Sequence[str]) -> None:
        """UPDATE the given attributes of existing rows, one prepared statement for all."""
        if not objs:
            return
        meta = self.model._meta
        fields = [meta.get_field(a) for a in attnames]
        qn = connection.ops.quote_name
        sets = ", ".join(f"{qn(f.column)} = %s" for f in fields)
        sql = f"UPDATE {self.qtable} SET {sets} WHERE {qn(self.pk_column)} = %s"
        converters = [
            _prep(f)
            if isinstance(f, models.JSONField)
            or (self.vendor == "sqlite" and isinstance(f, models.DateTimeField))
            else None
            for f in fields
        ]
        params = []
        for obj in objs:
            row = []
            for f, convert in zip(fields, converters, strict=True):
                value = getattr(obj, f.attname)
                row.append(value if convert is None or value is None else convert(value))
            row.append(obj.pk)
            params.append(row)
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if self.vendor == "postgresql":
                raw.executemany(sql, params)
            else:
                _sqlite_cursor(raw).executemany(sql.replace("%s", "?"), params)

    def _reserve(self, n: int) -> list[int]:
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [self.table, self.pk_column, n],
                )
                return [r[0] for r in cursor.fetchall()]
            cursor.execute(f"SELECT COALESCE(MAX({self.pk_column}), 0) FROM {self.qtable}")
            top = cursor.fetchone()[0]
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.table])
            found = cursor.fetchone()
            if found and found[0] and found[0] > top:
                top = found[0]
            return list(range(top + 1, top + 1 + n))


def _prep(field: models.Field):
    def convert(value):
        return field.get_db_prep_save(value, connection)

    return convert


def _sqlite_cursor(wrapper):
    import sqlite3

    return super(type(wrapper), wrapper) if not isinstance(wrapper, sqlite3.Cursor) else wrapper


_inserters: dict[type[models.Model], TableInserter] = {}


def inserter_for(model: type[models.Model]) -> TableInserter:
    found = _inserters.get(model)
    if found is None or found.vendor != connection.vendor:
        found = _inserters[model] = TableInserter(model)
    return found
