"""The import's side of the SQLite writer process (``jobs/sqlite_writer.py``).

SQLite works inside the process that calls it, so on SQLite an import hands each batch's writes
to a process of their own (``wizard.engine.pipeline.ProcessWriter``). The statements are made on
the import's thread exactly as they would be run there (``jobs.bulk.TableInserter`` and
``queryset_update`` write into a ``Script`` while ``capture`` is on) and sent to the process,
which runs them in the batch's transaction while the import prepares the next batch.
"""

from __future__ import annotations

import fcntl
import io
import pickle
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from django.db import connection

from jobs.errors import FerryError
from jobs.sqlite_writer import frame, frame_read

_capture = threading.local()


class Script:
    """Statements made on this thread for the writer process to run (``capture``).

    ``reserved``: per table, the top key this run has given out (shared by the run's scripts).
    ``limit``: the parameters one statement may carry (the same library on both sides)."""

    def __init__(self, reserved: dict[str, int], limit: int):
        self.ops: list[tuple] = []
        self.reserved = reserved
        self.limit = limit

    def execute(self, sql: str, params: Sequence[Any]) -> None:
        self.ops.append(("run", sql, params))

    def executemany(self, sql: str, seq: list) -> None:
        self.ops.append(("many", sql, seq))

    def expect(self, sql: str, params: Sequence[Any], *, rowcount: int, refused: Exception):
        """A statement that must change ``rowcount`` rows, else its transaction fails and the
        import raises ``refused``."""
        self.ops.append(("expect", sql, params, rowcount, pickle.dumps(refused)))


def capturing() -> Script | None:
    return getattr(_capture, "script", None)


@contextmanager
def capture(script: Script):
    """Within: this thread's SQLite inserts and updates (``TableInserter``, ``queryset_update``)
    go to ``script`` instead of this connection. Any other write on this connection is refused
    with an error: it would be made outside the batch, and take the write lock the writer
    process needs (a wait until the busy timeout)."""
    _capture.script = script
    try:
        with connection.execute_wrapper(_refuse_writes):
            yield script
    finally:
        _capture.script = None


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN", "SAVEPOINT", "CREATE", "DROP")


def _refuse_writes(execute, sql, params, many, context):
    if sql.lstrip()[:9].upper().startswith(_WRITES):
        raise RuntimeError(f"written on this connection while a batch is captured: {sql[:60]}")
    return execute(sql, params, many, context)


def queryset_update(queryset, values: dict[str, Any], *, refused: Exception) -> None:
    """``queryset.update(**values)``, which must change one row, else ``refused`` is raised
    (while capturing: when the writer process runs it, failing that batch's transaction)."""
    script = capturing() if connection.vendor == "sqlite" else None
    if script is None:
        if queryset.update(**values) != 1:
            raise refused
        return
    from django.core.exceptions import EmptyResultSet
    from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX
    from django.db.models.sql import UpdateQuery

    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    try:
        sql, params = query.get_compiler(queryset.db).as_sql()
    except EmptyResultSet:  # the filter matches no row whatever the table holds
        raise refused from None
    sql = FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
    script.expect(sql, list(params), rowcount=1, refused=refused)


class WriterFailed(Exception):
    """What the writer process reported: ``kind`` "integrity", "database" or "expect" (then
    ``refused`` is the exception the statement was sent with)."""

    def __init__(self, kind: str, message: str, refused: Exception | None = None):
        super().__init__(message)
        self.kind = kind
        self.refused = refused

    def error(self) -> Exception:
        """The exception the statement would have raised here: Django's database error of its
        kind, or the one an ``expect`` was sent with."""
        if self.refused is not None:
            return self.refused
        from django.db import DatabaseError, IntegrityError

        return (IntegrityError if self.kind == "integrity" else DatabaseError)(str(self))


class WriterGone(FerryError):
    """The writer process ended without answering (killed, or it failed to start)."""


class _PlainPickler(pickle.Pickler):
    """Values as the writer process, which imports nothing of Ferry, can read them: a str or
    int subclass (a TextChoices member, a safe string) as the plain value it is stored as;
    the standard library's dates and decimals as they are; anything else is refused here
    rather than fail in the process."""

    _STANDARD = frozenset({"datetime", "decimal", "uuid"})

    def reducer_override(self, obj):
        if isinstance(obj, str):
            return str, (str.__str__(obj),)
        if isinstance(obj, int) and not isinstance(obj, bool):
            return int, (int(obj),)
        if type(obj).__module__ in self._STANDARD or isinstance(obj, type):
            return NotImplemented
        raise TypeError(f"a {type(obj).__name__} cannot be sent to the writer process")


_PIPE_SIZE = 1 << 20  # Linux's default ceiling for a pipe (fs.pipe-max-size)
_PROGRAM = Path(__file__).with_name("sqlite_writer.py")


class WriterProcess:
    """The import's side of ``jobs/sqlite_writer.py``: started with this connection's database
    and settings; ``send`` a list of operations; ``reply`` waits for the next answer."""

    def __init__(self):
        connection.ensure_connection()
        params = dict(connection.get_connection_params())
        params.pop("detect_types", None)  # nothing is read back there
        params.pop("check_same_thread", None)
        self.limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        # -I: the standard library only, whatever the environment says; it needs nothing else.
        self._proc = subprocess.Popen(  # noqa: S603 - our own program, by absolute path
            [sys.executable, "-I", str(_PROGRAM)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        # A batch's statements (~0.5 MB for 5,000 contacts) fit in the pipe: sending them
        # does not wait while the process commits the batch before.
        with suppress(OSError, AttributeError):
            fcntl.fcntl(self._proc.stdin.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        self.send({"params": params, "init_commands": list(connection.init_commands)})
        self.reply()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def send(self, message: object) -> None:
        buffer = io.BytesIO()
        _PlainPickler(buffer, pickle.HIGHEST_PROTOCOL).dump(message)
        body = buffer.getvalue()
        try:
            self._proc.stdin.write(frame(body))
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._gone() from None

    def reply(self) -> None:
        """Wait for the next answer; raise ``WriterFailed`` if it reports a failure."""
        body = frame_read(self._proc.stdout)
        if body is None:
            raise self._gone()
        answer = pickle.loads(body)  # noqa: S301 - from our own writer process
        if answer[0] == "ok":
            return
        _, kind, message, refused = answer
        raise WriterFailed(kind, message, pickle.loads(refused) if refused else None)  # noqa: S301

    def close(self) -> None:
        """End the process (what it has not committed is rolled back) and wait for it."""
        with suppress(WriterGone, ValueError):
            self.send([("exit",)])
        with suppress(BrokenPipeError, OSError, ValueError):
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc.stdout.close()

    def _gone(self) -> WriterGone:
        try:
            code = self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        return WriterGone(
            "The database writer process stopped"
            + (f" (exit status {code})" if code is not None else "")
            + "; the import stopped there. The batches saved before it are kept (undo removes them)."
        )
