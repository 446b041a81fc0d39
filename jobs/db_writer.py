"""The import's writer process: runs the statements an import sends it, in its transactions.

An import that writes each batch while it prepares the next needs the two to run at once.
On SQLite the database works inside the process that calls it, so a thread would share the
import's interpreter lock; on PostgreSQL a writer thread did overlap the server's work, but
each of its ~35 round trips a batch waited for the lock to come back from the thread that
prepares batches (measured: ~0.8 ms a wait, a quarter of the writer's time). This small
program, started by the import (``jobs.writer_process.WriterProcess``) with the database's
connection settings, is the second process: the import sends each batch's statements, already
made (keys reserved, values converted, COPY's rows formatted), and goes on with the next
batch while this one writes.

Nothing of Django or Ferry runs here: the standard library for SQLite, and psycopg for
PostgreSQL (imported only then). It starts in a few milliseconds (tens with psycopg). Its one
argument is the import's process id: it dies with that process (``die_with_parent``).

Messages, both ways, are a 4-byte length and a pickle. The import sends a set-up message
(``{"vendor", "params", "init_commands"}``, the last SQLite's only; answered
``("ok", backend_pid)``: the PostgreSQL server process serving this one, or None), then lists
of operations:

- ``("begin",)``, ``("commit",)``, ``("rollback",)``: the transaction (``BEGIN IMMEDIATE`` on
  SQLite);
- ``("run", sql, params)``, ``("many", sql, seq)``: one statement, or one for each of ``seq``;
- ``("copy", sql, data)``: PostgreSQL, ``COPY … FROM STDIN`` with ``data`` (bytes) as its rows;
- ``("expect", sql, params, rowcount, error)``: one statement that must change ``rowcount``
  rows, else the transaction fails with ``error`` (bytes the import made of an exception);
- ``("reply",)``: send back what happened since the last reply: ``("ok",)``, or
  ``("error", kind, message, error)`` with ``kind`` "integrity", "database" or "expect".
  After a failure the transaction is rolled back and every operation up to the reply skipped.

At the end of its input (the import finished, failed or died) whatever is not committed is
rolled back, and the program ends.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import pickle
import signal
import sqlite3
import struct
import sys
from contextlib import suppress

_LENGTH = struct.Struct("!I")


def frame(body: bytes) -> bytes:
    """A message on the wire, either way: its length (4 bytes), then its bytes."""
    return _LENGTH.pack(len(body)) + body


def frame_read(stream) -> bytes | None:
    """The next message's bytes, or None at the end of the stream."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    body = stream.read(size)
    return body if len(body) == size else None


def message_read(stream) -> object | None:
    """The next message, or None at the end of the stream."""
    body = frame_read(stream)
    return None if body is None else pickle.loads(body)  # noqa: S301 - from the import


def message_write(stream, message: object) -> None:
    stream.write(frame(pickle.dumps(message, pickle.HIGHEST_PROTOCOL)))
    stream.flush()


def adapters_register() -> None:
    """The values Django's SQLite backend adapts (django/db/backends/sqlite3/base.py), adapted
    the same way: a value stored from here reads back as one stored by Django. Called by this
    program only: the import imports this module for its wire format."""
    sqlite3.register_adapter(decimal.Decimal, str)
    sqlite3.register_adapter(dt.date, lambda value: value.isoformat())
    sqlite3.register_adapter(dt.datetime, lambda value: value.isoformat(" "))


def connect(params: dict, init_commands: list[str]) -> sqlite3.Connection:
    """A connection set up as Django sets up its own (foreign keys on, the settings' init
    commands), in autocommit: transactions are begun and ended by the messages."""
    conn = sqlite3.connect(**params, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA legacy_alter_table = OFF")
    for command in init_commands:
        if command.strip():
            conn.execute(command)
    return conn


class Writer:
    """SQLite's side; ``PostgresWriter`` PostgreSQL's."""

    begin_sql = "BEGIN IMMEDIATE"

    def __init__(self, conn):
        self.conn = conn
        self.cursor = conn.cursor()
        self.failure: tuple | None = None
        self.integrity_error, self.database_error = sqlite3.IntegrityError, sqlite3.DatabaseError

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    @property
    def backend_pid(self) -> int | None:
        """The server process serving this connection: none, SQLite is in this one."""
        return None

    def apply(self, ops: list[tuple], out) -> None:
        for op in ops:
            name = op[0]
            if name == "reply":
                message_write(out, self.failure or ("ok",))
                self.failure = None
                continue
            if self.failure is not None:
                continue  # the transaction failed: nothing more until the import hears so
            try:
                self._run(op)
            except self.integrity_error as exc:
                self._fail("integrity", str(exc), None)
            except self.database_error as exc:
                self._fail("database", str(exc), None)

    def _run(self, op: tuple) -> None:
        name = op[0]
        if name == "run":
            self.cursor.execute(op[1], op[2])
        elif name == "many":
            self.cursor.executemany(op[1], op[2])
        elif name == "expect":
            self.cursor.execute(op[1], op[2])
            if self.cursor.rowcount != op[3]:
                self._fail("expect", "", op[4])
        elif name == "copy":
            with self.cursor.copy(op[1]) as copy:
                copy.write(op[2])
        elif name == "begin":
            self.cursor.execute(self.begin_sql)
        elif name == "commit":
            self.cursor.execute("COMMIT")
        elif name == "rollback":
            if self.in_transaction:
                self.cursor.execute("ROLLBACK")
        else:
            raise ValueError(f"unknown operation {name!r}")

    def _fail(self, kind: str, text: str, error: bytes | None) -> None:
        self.failure = ("error", kind, text, error)
        if self.in_transaction:
            self.conn.rollback()

    def close(self) -> None:
        if self.in_transaction:
            self.conn.rollback()
        self.conn.close()


class PostgresWriter(Writer):
    """PostgreSQL's side, on a psycopg connection made from the import's connection
    parameters (Django's own: its cursor class, so values are bound as Django binds them),
    in autocommit: transactions are begun and ended by the messages, as on SQLite."""

    begin_sql = "BEGIN"

    def __init__(self, params: dict):
        import psycopg

        super().__init__(psycopg.connect(**params, autocommit=True))
        self.integrity_error, self.database_error = psycopg.IntegrityError, psycopg.DatabaseError
        self._idle = psycopg.pq.TransactionStatus.IDLE

    @property
    def in_transaction(self) -> bool:
        return self.conn.info.transaction_status != self._idle

    @property
    def backend_pid(self) -> int | None:
        return self.conn.info.backend_pid


def die_with_parent(parent: int) -> bool:
    """Linux: be killed the moment the import's process ends, however it ends (strictly: the
    thread that started this one; an import starts and closes its writer on one thread).
    Without it, a worker killed mid-run would leave this process to run what was already in
    its pipe: a batch committed after the worker died, while the job's state was being read.
    False if the parent is already gone (then there is nothing to write for)."""
    with suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    return os.getppid() == parent


_PR_SET_PDEATHSIG = 1


def main() -> int:
    if len(sys.argv) > 1 and not die_with_parent(int(sys.argv[1])):
        return 0
    source, out = sys.stdin.buffer, sys.stdout.buffer
    setup = message_read(source)
    if setup is None:
        return 0
    if setup.get("vendor") == "postgresql":
        writer = PostgresWriter(setup["params"])  # psycopg adapts values as Django's does
    else:
        adapters_register()
        writer = Writer(connect(setup["params"], setup["init_commands"]))
    # The set-up's answer names the server process that serves this one (PostgreSQL), so that
    # the import can tell its CPU from the others' (bench/measure.py).
    message_write(out, ("ok", writer.backend_pid))
    try:
        while True:
            ops = message_read(source)
            if ops is None or ops == [("exit",)]:
                return 0
            writer.apply(ops, out)
    finally:
        writer.close()


if __name__ == "__main__":
    sys.exit(main())
