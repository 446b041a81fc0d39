"""Inserting a batch of new rows fast, with their primary keys known.

Used by the import engine (wizard/engine/writing.py), the row log (jobs/services.py job_log) and
the demo seeder (business/demo/). It lives in jobs, the lowest of the three, so that each may use
it.

``bulk_create`` spends most of its time in Python, per field and per row (pre_save,
get_db_prep_save, SQL compilation), and on SQLite Django still caps a statement at 999
parameters, i.e. ~70 rows. The engine already holds clean, typed values, so here:

- primary keys are reserved first: on PostgreSQL from the table's sequence (one query), on
  SQLite above both MAX(id) and the AUTOINCREMENT counter — safe because the caller holds the
  write transaction (SQLite has one writer, and Ferry opens transactions IMMEDIATE);
- PostgreSQL rows go through ``COPY … FROM STDIN`` (psycopg 3), SQLite rows through INSERT
  statements of several hundred rows each (``_sqlite_insert``);
- on SQLite an import's batches are written by a process of their own: while
  ``jobs.writer_process.capture`` is on, inserts and updates are made into its script instead
  of run here, and keys are reserved above those the run has given out too.

Only columns that need it are converted (aware date-times, JSON). Set FERRY_IMPORT_WRITER=bulk
to use Django's bulk_create instead (the benchmark compares both).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any

from django.db import connection, models, transaction

from jobs.writer_process import capturing

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
            if vendor == "sqlite" and isinstance(f, models.JSONField):
                converters.append(_json_prep(f))
            elif isinstance(f, models.JSONField) or (
                vendor == "sqlite" and isinstance(f, models.DateTimeField)
            ):
                converters.append(_prep(f))
            elif vendor == "sqlite" and isinstance(f, models.DateField):
                # Stored as its text either way; made here, a date is sent to the SQLite
                # writer process as text (a date object costs pickle four times as much).
                converters.append(_date_prep(f))
            else:
                converters.append(None)
        # Per attribute: what its value is converted with before it is sent (None: as it is).
        self.convert_of = dict(zip(self.attnames, converters, strict=True))
        self.order = _unique_order(model)
        qn = connection.ops.quote_name
        self.columns = ", ".join(qn(c) for c in [self.pk_column, *(f.column for f in self.fields)])
        self.qtable = qn(self.table)

    def insert(
        self,
        rows: Sequence[dict[str, Any]],
        *,
        now,
        defaults: dict[str, Any] | None = None,
        staged: Staged | None = None,
        keys: bool = True,
    ) -> list[int]:
        """Insert the rows; returns their new primary keys in order.

        Attributes a row lacks take ``defaults`` (else NULL); auto_now fields take ``now``.
        ``staged``: the same rows made ready by ``stage`` (on another thread). ``keys=False``:
        the caller needs no keys (a log), so on SQLite none are reserved (the rows' NULL key
        is given by SQLite, under whichever process holds the write lock), and None returned.
        """
        if not rows:
            return []
        script = capturing()
        if self.vendor == "sqlite" and script is None and not connection.in_atomic_block:
            # Reserving keys above MAX(id) is only safe while holding the write lock.
            with transaction.atomic():
                return self.insert(rows, now=now, defaults=defaults, keys=keys)
        if staged is None or len(staged.ids) != len(rows):
            if not keys and self.vendor == "sqlite":
                ids = [None] * len(rows)
            else:
                ids = self._reserve(len(rows))
            shared = _copy_shared if self.vendor == "postgresql" else None
            staged = Staged(
                ids, *self._params(rows, ids, now=now, defaults=defaults, shared=shared)
            )
        if script is not None:
            if self.vendor == "postgresql":
                # The writer process runs COPY with the rows formatted here, by this
                # connection's adapters, as they would be sent from here.
                data = staged.payload if staged.payload is not None else _copy_text(staged.params)
                if data is None:
                    raise RuntimeError("this psycopg cannot format COPY's rows ahead")
                script.copy(f"COPY {self.qtable} ({staged.columns}) FROM STDIN", data)
            else:
                _sqlite_insert(
                    script.execute, script.limit, self.qtable, staged.columns, staged.params
                )
            return staged.ids
        # The driver's own cursor: its errors are raised as Django's (IntegrityError for a
        # key someone else wrote meanwhile), which is what the import's callers catch.
        with connection.cursor() as cursor, connection.wrap_database_errors:
            raw = cursor.cursor
            if self.vendor == "postgresql":
                with raw.copy(f"COPY {self.qtable} ({staged.columns}) FROM STDIN") as copy:
                    if staged.payload is not None:
                        copy.write(staged.payload)
                    else:
                        write = copy.write_row
                        for row in staged.params:
                            write(row)
            else:
                raw = _sqlite_cursor(raw)
                limit = raw.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
                _sqlite_insert(raw.execute, limit, self.qtable, staged.columns, staged.params)
        return staged.ids

    def stage(
        self, rows: Sequence[dict[str, Any]], *, now, defaults: dict[str, Any] | None = None
    ) -> Staged:
        """PostgreSQL: ``insert``'s work up to the database's, done ahead on this connection
        (keys reserved from the sequence, which no transaction holds back; rows in COPY's text
        format), so that ``insert(staged=…)`` only sends them: the import makes its batch's
        writes ready while the batch is prepared (``ImportRun.prepare_stage``), and its writer
        process only runs them (wizard/engine/pipeline.py)."""
        if self.vendor != "postgresql":
            raise ValueError("only PostgreSQL's keys may be reserved outside the write")
        ids = self._reserve(len(rows))
        columns, params = self._params(rows, ids, now=now, defaults=defaults, shared=_copy_shared)
        payload = _copy_text(params)
        # Once formatted, the values are not kept a second time while the batch waits.
        return Staged(ids, columns, params if payload is None else [], payload)

    def _params(
        self, rows: Sequence[dict[str, Any]], ids: list[int], *, now, defaults, shared=None
    ) -> tuple[str, list[list]]:
        """The column list and each row's values in its order, converted where needed.
        ``shared``: what the values every row shares (defaults, timestamps) become, once."""
        defaults = defaults or {}
        auto = set(self.auto_now)
        first = rows[0]
        # Columns the rows carry come first (read in C by itemgetter), then the ones every
        # row shares (defaults and timestamps, converted once).
        varying = [a for a in self.attnames if a in first and a not in auto]
        rest = [a for a in self.attnames if a not in varying]
        order = varying + rest
        convert_of = self.convert_of
        tail = []
        for a in rest:
            convert = convert_of[a]
            value = now if a in auto else defaults.get(a)
            tail.append(value if convert is None or value is None else convert(value))
        if shared is not None:
            tail = shared(tail)
        positions = [
            (i, convert_of[a]) for i, a in enumerate(varying, start=1) if convert_of[a] is not None
        ]
        width = len(first)
        if len(varying) > 1:
            pick = itemgetter(*varying)
        elif varying:
            pick = lambda d, a=varying[0]: (d[a],)  # noqa: E731
        else:
            pick = lambda d: ()  # noqa: E731
        params = []
        append = params.append
        for pk, values in zip(ids, rows, strict=True):
            if len(values) == width:
                try:
                    out = [pk, *pick(values), *tail]
                except KeyError:
                    out = None
            else:
                out = None
            if out is None:
                # A row shaped differently from the first: fill each column by name.
                out = [pk, *(values.get(a, defaults.get(a)) for a in varying)]
                for a, shared in zip(rest, tail, strict=True):
                    if a in values and a not in auto:
                        convert = convert_of[a]
                        value = values[a]
                        out.append(value if convert is None or value is None else convert(value))
                    else:
                        out.append(shared)
            for i, convert in positions:
                if out[i] is not None:
                    out[i] = convert(out[i])
            append(out)
        # The key's columns every row shares (the organization: a default) do not order them.
        _key_sort(params, [1 + varying.index(a) for a in self.order if a in varying])
        qn = connection.ops.quote_name
        field_of = {f.attname: f for f in self.fields}
        columns = ", ".join(qn(c) for c in [self.pk_column, *(field_of[a].column for a in order)])
        return columns, params

    def update(self, objs: Sequence[models.Model], attnames: Sequence[str]) -> None:
        """UPDATE the given attributes of existing rows, one prepared statement for all."""
        if not objs:
            return
        meta = self.model._meta
        fields = [meta.get_field(a) for a in attnames]
        qn = connection.ops.quote_name
        sets = ", ".join(f"{qn(f.column)} = %s" for f in fields)
        sql = f"UPDATE {self.qtable} SET {sets} WHERE {qn(self.pk_column)} = %s"
        converters = [self.convert_of[f.attname] for f in fields]
        params = []
        for obj in objs:
            row = []
            for f, convert in zip(fields, converters, strict=True):
                value = getattr(obj, f.attname)
                row.append(value if convert is None or value is None else convert(value))
            row.append(obj.pk)
            params.append(row)
        script = capturing()
        if self.vendor != "postgresql":
            sql = sql.replace("%s", "?")
            if script is not None:
                script.executemany(sql, params)
                return
            with connection.cursor() as cursor, connection.wrap_database_errors:
                _sqlite_cursor(cursor.cursor).executemany(sql, params)
            return
        casts = array_casts(fields)
        pks = [row[-1] for row in params]
        many = casts is None or len(set(pks)) != len(pks)
        if not many:
            # One statement for the batch: the new values travel as one array per column.
            # Row by row, each UPDATE is parsed and planned again (Django binds parameters
            # client-side), which cost the server more than the writes.
            names = [f"c{i}" for i in range(len(fields))]
            sets = ", ".join(f"{qn(f.column)} = v.{n}" for f, n in zip(fields, names, strict=True))
            arrays = ", ".join(f"%s::{c}[]" for c in casts)
            sql = (
                f"UPDATE {self.qtable} SET {sets} "
                f"FROM unnest({arrays}, %s::bigint[]) AS v({', '.join(names)}, pk) "
                f"WHERE {self.qtable}.{qn(self.pk_column)} = v.pk"
            )
            params = [*map(list, zip(*params, strict=True))]
        if script is not None:
            (script.executemany if many else script.execute)(sql, params)
            return
        with connection.cursor() as cursor, connection.wrap_database_errors:
            (cursor.cursor.executemany if many else cursor.execute)(sql, params)

    def _reserve(self, n: int) -> list[int]:
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                # The sequence looked up once (a materialised CTE): called inside the select
                # list, pg_get_serial_sequence ran its catalog look-ups for every key, which
                # cost PostgreSQL more than the keys themselves.
                cursor.execute(
                    "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) "
                    "SELECT nextval(s.seq) FROM s, generate_series(1, %s)",
                    [self.table, self.pk_column, n],
                )
                return [r[0] for r in cursor.fetchall()]
            cursor.execute(f"SELECT COALESCE(MAX({self.pk_column}), 0) FROM {self.qtable}")
            top = cursor.fetchone()[0]
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.table])
            found = cursor.fetchone()
            if found and found[0] and found[0] > top:
                top = found[0]
            script = capturing()
            if script is not None:
                # Keys given out to batches the writer process has not committed yet: this
                # connection's MAX(id) does not see them. Another process taking the same
                # keys meanwhile makes the batch's insert fail, and it is written again here.
                top = max(top, script.reserved.get(self.table, 0))
                script.reserved[self.table] = top + n
            return list(range(top + 1, top + 1 + n))


def _unique_order(model: type[models.Model]) -> list[str]:
    """The attributes of the model's first unique constraint: the order its rows are sent in.

    A file's rows come in no order of their key, so each row's entry lands on another page of
    the key's index. Sent sorted by it, the batch fills its pages one after the other: SQLite
    inserted 100k contacts with random e-mails in 1.73 s of CPU sorted against 2.24 s as
    they came (keys reserved in file order either way). Each row keeps its own key."""
    meta = model._meta
    for constraint in meta.constraints:
        fields = getattr(constraint, "fields", None)
        if isinstance(constraint, models.UniqueConstraint) and fields:
            return [meta.get_field(name).attname for name in fields]
    return []


def _key_sort(params: list[list], positions: list[int]) -> None:
    """Sort the rows by their values at ``positions``; rows whose values do not compare (a
    blank among texts) stay as they came: the order is only for speed, each row carries its
    own primary key."""
    if not positions or len(params) < 2:
        return
    with suppress(TypeError):
        params.sort(key=itemgetter(*positions))


@dataclass
class Staged:
    """A batch's rows made ready to insert: their keys, the column list, and the values, as
    Python values (``params``) or, when ``TableInserter.stage`` could, only in COPY's text
    format (``payload``)."""

    ids: list[int]
    columns: str
    params: list[list]
    payload: bytes | None = None


def _adapters():
    """This thread's connection's psycopg adapters and text encoding, as COPY uses them."""
    from psycopg.adapt import Transformer

    connection.ensure_connection()
    raw = connection.connection
    return Transformer(raw), raw.info.encoding


def _copy_shared(values: list) -> list:
    """Values every row of a COPY shares, as the text COPY sends for them, dumped once by
    psycopg's own adapters: formatting the rows then only copies them. Two timestamps cost
    psycopg 2.6 µs a row to format (of 4.3 µs for a whole contact), on the import's thread
    that prepares batches, which holds the GIL the writer needs. COPY's escaping still
    applies to the text, so the bytes sent are the same."""
    from psycopg.adapt import PyFormat

    transformer, encoding = _adapters()
    out = []
    for value in values:
        if value is None or type(value) is str:
            out.append(value)
        else:
            dumped = transformer.get_dumper(value, PyFormat.TEXT).dump(value)
            out.append(bytes(dumped).decode(encoding))
    return out


def _copy_text(params: list[list]) -> bytes | None:
    """The rows as the data of a text-format ``COPY … FROM STDIN``, formatted by psycopg's
    own COPY code (C in psycopg-binary) with this thread's connection's adapters; None where
    that code is not where this psycopg keeps it (the rows then go one by one as before)."""
    try:
        from psycopg._copy_base import TextFormatter  # not public API: guarded
    except ImportError:
        return None
    transformer, encoding = _adapters()
    formatter = TextFormatter(transformer, encoding=encoding)
    write = formatter.write_row
    chunks = [write(row) for row in params]
    chunks.append(formatter.end())
    return b"".join(chunks)


def array_casts(fields: Sequence[models.Field]) -> list[str] | None:
    """PostgreSQL element types to send each field's values as, or None when one has no
    plain array form (JSON, arrays). Without a length or precision, so that assigning to the column
    checks a too-long value exactly as a single UPDATE would (an explicit cast would cut it)."""
    casts = []
    for f in fields:
        db_type = f.db_type(connection)
        if db_type is None or isinstance(f, models.JSONField) or db_type.endswith("]"):
            return None
        casts.append(_TYPMOD.sub("", db_type).strip())
    return casts


_TYPMOD = re.compile(r"\(.*?\)")


def _date_prep(field: models.DateField):
    """A DateField's value as Django stores it on SQLite (``adapt_datefield_value``: its text)."""
    isoformat, prep = dt.date.isoformat, _prep(field)

    def convert(value):
        return isoformat(value) if value.__class__ is dt.date else prep(value)

    return convert


def _json_prep(field: models.JSONField):
    """A JSONField's value as Django stores it on SQLite (``adapt_json_value``: its JSON text),
    without the field's and the connection's layers for a plain object or list (the change log
    stores two a record an import updates)."""
    dumps, encoder, prep = json.dumps, field.encoder, _prep(field)

    def convert(value):
        return dumps(value, cls=encoder) if value.__class__ in _JSON_PLAIN else prep(value)

    return convert


_JSON_PLAIN = frozenset({dict, list})


def _prep(field: models.Field):
    def convert(value):
        return field.get_db_prep_save(value, connection)

    return convert


# Rows per SQLite INSERT statement. ``executemany`` binds, steps and resets its statement
# once per row; a statement carrying a few hundred rows has SQLite insert them in one step.
# 100k contacts (six indexes): 0.90 s by executemany, 0.71 s at 500 rows a statement, 0.77 s
# at 100; more than 500 gained nothing.
SQLITE_ROWS_PER_STATEMENT = 500


def _sqlite_insert(execute, limit: int, qtable: str, columns: str, params: list[list]) -> None:
    """INSERT ``params`` (rows of equal width) in statements of many rows each, within
    ``limit``, what this SQLite allows as parameters of one statement."""
    width = len(params[0])
    per = max(1, min(SQLITE_ROWS_PER_STATEMENT, limit // width))
    one = "(" + ", ".join(["?"] * width) + ")"
    head = f"INSERT INTO {qtable} ({columns}) VALUES "
    full = head + ", ".join([one] * per)  # one text for every full chunk: prepared once
    flat = chain.from_iterable
    n = len(params)
    whole = n - n % per
    for start in range(0, whole, per):
        execute(full, list(flat(params[start : start + per])))
    if whole < n:
        execute(head + ", ".join([one] * (n - whole)), list(flat(params[whole:])))


def _sqlite_cursor(wrapper):
    """The sqlite3 cursor's own methods, under Django's ``SQLiteCursorWrapper``: a subclass of
    ``sqlite3.Cursor`` that runs a regular expression over every query to turn "%s" into "?"
    (2 % of a SQLite import's time, on statements of 8,000 parameters)."""
    return wrapper if type(wrapper) is sqlite3.Cursor else super(type(wrapper), wrapper)


_inserters: dict[type[models.Model], TableInserter] = {}


def inserter_for(model: type[models.Model]) -> TableInserter:
    found = _inserters.get(model)
    if found is None or found.vendor != connection.vendor:
        found = _inserters[model] = TableInserter(model)
    return found
