"""The import's side of its writer process (``jobs/db_writer.py``).

An import hands each batch's writes to a process of their own
(``wizard.engine.pipeline.ProcessWriter``; why a process, not a thread, is in db_writer.py).
The statements are made on the import's thread exactly as they would be run there
(``jobs.bulk.TableInserter`` and ``queryset_update`` write into a ``Script`` while ``capture``
is on) and sent to the process, which runs them in the batch's transaction while the import
prepares the next batch.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
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

from jobs.db_writer import frame, frame_read
from jobs.errors import FerryError

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

    def copy(self, sql: str, data: bytes) -> None:
        """PostgreSQL: ``COPY … FROM STDIN`` with ``data``, rows in COPY's text format."""
        self.ops.append(("copy", sql, data))

    def expect(self, sql: str, params: Sequence[Any], *, rowcount: int, refused: Exception):
        """A statement that must change ``rowcount`` rows, else its transaction fails and the
        import raises ``refused``."""
        self.ops.append(("expect", sql, params, rowcount, pickle.dumps(refused)))


def capturing() -> Script | None:
    return getattr(_capture, "script", None)


@contextmanager
def capture(script: Script):
    """Within: this thread's inserts and updates (``TableInserter``, ``queryset_update``)
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
    script = capturing()
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
    if connection.vendor == "sqlite":
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
    the standard library's dates and decimals as they are; a JSON value Django made ready for
    PostgreSQL (psycopg's ``Jsonb``) as its JSON text, which PostgreSQL reads into the jsonb
    column it is bound to; anything else is refused here rather than fail in the process."""

    _STANDARD = frozenset({"datetime", "decimal", "uuid"})

    def reducer_override(self, obj):
        if isinstance(obj, str):
            return str, (str.__str__(obj),)
        if isinstance(obj, int) and not isinstance(obj, bool):
            return int, (int(obj),)
        if type(obj).__module__ in self._STANDARD or isinstance(obj, type):
            return NotImplemented
        text = _json_text(obj)
        if text is not None:
            return str, (text,)
        raise TypeError(f"a {type(obj).__name__} cannot be sent to the writer process")


def _json_text(obj) -> str | None:
    try:
        from psycopg.types.json import Json, Jsonb
    except ImportError:
        return None
    if isinstance(obj, Json | Jsonb):
        return (obj.dumps or json.dumps)(obj.obj)
    return None


_PIPE_SIZE = 1 << 20  # Linux's default ceiling for a pipe (fs.pipe-max-size)
_PROGRAM = Path(__file__).with_name("db_writer.py")


class WriterProcess:
    """The import's side of ``jobs/db_writer.py``: started with this connection's database
    and settings; ``send`` a list of operations; ``reply`` waits for the next answer."""

    def __init__(self):
        connection.ensure_connection()
        vendor = connection.vendor
        if vendor == "postgresql":
            params, init_commands = _postgresql_params(), []
            self.limit = 65535  # a statement's parameters in PostgreSQL's protocol
        else:
            params = dict(connection.get_connection_params())
            params.pop("detect_types", None)  # nothing is read back there
            params.pop("check_same_thread", None)
            init_commands = list(connection.init_commands)
            self.limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        # -I: the standard library (and psycopg, installed beside it) only, whatever the
        # environment says; it needs nothing else.
        self._proc = subprocess.Popen(  # noqa: S603 - our own program, by absolute path
            [sys.executable, "-I", str(_PROGRAM), str(os.getpid())],  # it dies with us
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        # A batch's statements (~0.5 MB for 5,000 contacts) fit in the pipe: sending them
        # does not wait while the process commits the batch before.
        with suppress(OSError, AttributeError):
            fcntl.fcntl(self._proc.stdin.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        self.send({"vendor": vendor, "params": params, "init_commands": init_commands})
        # The PostgreSQL server process serving the writer's connection (None on SQLite).
        self.backend_pid: int | None = self.reply()

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

    def reply(self) -> Any:
        """Wait for the next answer; raise ``WriterFailed`` if it reports a failure. Returns
        what an "ok" carries (the set-up's: the server process's id), else None."""
        body = frame_read(self._proc.stdout)
        if body is None:
            raise self._gone()
        answer = pickle.loads(body)  # noqa: S301 - from our own writer process
        if answer[0] == "ok":
            return answer[1] if len(answer) > 1 else None
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


def _postgresql_params() -> dict[str, Any]:
    """This connection's psycopg parameters, as the writer process can take them: Django's
    cursor class as psycopg's it extends (client-side binding, unless the settings ask for the
    server's), Django's adapters left out (they read values; the process only writes)."""
    import psycopg

    params = dict(connection.get_connection_params())
    params.pop("context", None)
    factory = params.pop("cursor_factory", None)
    server = factory is not None and not issubclass(factory, psycopg.ClientCursor)
    params["cursor_factory"] = psycopg.Cursor if server else psycopg.ClientCursor
    return params
