"""Writing each batch on a thread of its own while the run prepares the next one.

A skip-invalid import spends about as long waiting for the database (COPY, updates, change
log, row log, checkpoint, commit) as it spends in Python (parsing, keys, lookups). Done one
after the other, the two add up and one of the machine's cores idles. Here the run's thread
prepares batch N+1 (parse, keys, references, existing records: reads only; then its new
records made ready to send, keys reserved and rows in COPY's format) while this thread writes
batch N on a connection of its own; psycopg lets go of the GIL while the database works, so
the two overlap. This thread is the run's critical path: what can be done before the write
is done on the run's thread.

The order of what a person sees is kept: a batch's outcome (written, or refused by the
database with its reason on every row) is known before the run records it; its records,
change log, row log and checkpoint commit together, in one transaction on this thread, as
``ImportRun._batch`` does; the checkpoint counts exactly the batches it commits, so a run
resumed after a dead worker counts nothing twice.

On SQLite the writer is a process (``ProcessWriter``): the database works inside the process
that calls it, so a thread would share the GIL with this one (measured slower than none).

What a later batch's preparation would need from an earlier batch's uncommitted writes is
never split this way (``ImportRun.overlap_allowed``): references created for missing keys,
records of the same file referenced by later rows, variants, "last row wins" repeats,
all-or-nothing runs (one transaction, one connection), previews, and runs inside an outer
transaction (tests): those run on one thread, one batch after the other.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections import Counter
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from jobs.writer_process import Script, WriterFailed, WriterProcess, capture
from wizard.engine.writing import relaxed_commits

_STOP = object()
_SENT = object()

# How long the run's thread may keep the GIL while the writer thread waits for it, while any
# writer runs. Python's default (5 ms) is paid by the writer after every statement, since the
# run's thread is busy in Python when the database answers: ~10 statements a batch made the
# writer, the critical path, wait ~50 ms a batch for nothing. At 0.5 ms, 100k rows on
# PostgreSQL took 2.2-2.6x COPY's wall time against 2.8-4.4x at 5 ms (bench_import, same
# runs interleaved). Shorter still (0.1 ms) measured slower: the handoffs themselves cost.
# The interval is the process's: set while the first writer runs, put back after the last.
HANDOFF_INTERVAL = 0.0005
_handoff_lock = threading.Lock()
_handoff_users = 0
_handoff_saved = 0.0


def _handoff_enter() -> None:
    global _handoff_users, _handoff_saved
    with _handoff_lock:
        if _handoff_users == 0:
            _handoff_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_handoff_saved, HANDOFF_INTERVAL))
        _handoff_users += 1


def _handoff_exit() -> None:
    global _handoff_users
    with _handoff_lock:
        _handoff_users -= 1
        if _handoff_users == 0:
            sys.setswitchinterval(_handoff_saved)


class BatchLog:
    """The run's row log while batches are written on the writer thread: each batch's entries
    are held until the batch is handed over, then written in the batch's transaction."""

    deferred = False

    def __init__(self):
        self.entries: list[dict] = []

    def add(self, entries: list[dict]) -> None:
        self.entries.extend(entries)

    def take(self) -> list[dict]:
        entries, self.entries = self.entries, []
        return entries


class BatchWriter:
    """The writer thread of one run: ``write(rows)`` starts a batch's transaction and writes
    its records; ``written()`` waits for that outcome; ``finish(...)`` hands over the batch's
    row log and checkpoint, which commit with it (the job's progress shows its counts)."""

    def __init__(self, run):
        self.run = run
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._joined = False
        # The job counts of the batch last handed over (``finish``), until known committed.
        self._handed: dict[str, int] | None = None
        self._thread = threading.Thread(target=self._work, name="ferry-writer", daemon=True)
        _handoff_enter()
        self._thread.start()

    # --- the run's side -----------------------------------------------------------------

    def write(self, rows: list, plan) -> None:
        """``plan``: its writes made ready on the run's thread (``prepare_stage``)."""
        self._inbox.put((rows, plan))

    def written(self) -> bool:
        """Wait until the batch last given to ``write`` is written (not yet committed); True
        if the database refused it (its rows say why)."""
        item = self._outbox.get()
        if isinstance(item, BaseException):
            raise item
        # The writer commits a batch before it writes the next: the one before is committed.
        self._committed()
        return item

    def finish(self, *, entries: list[dict], checkpoint: dict[str, Any]) -> None:
        """Hand over, and wait while the writer sends them (not for the commit): their few
        short statements each need the GIL back when the database answers, which this
        thread, preparing the next batch, would hold (measured: 0.6 s for 0.16 s of work
        a 100k run); the commit, a long wait on the database, still overlaps."""
        self._handed = checkpoint["job_counts"]
        self._inbox.put((entries, checkpoint))
        item = self._outbox.get()
        if isinstance(item, BaseException):
            raise item

    def close(self) -> None:
        """After the last ``finish``: wait for its commit; raise what stopped the writer."""
        self._inbox.put(_STOP)
        self._join()
        if self._error is not None:
            raise self._error
        self._committed()

    def _committed(self) -> None:
        """The job's progress shows the counts the last committed checkpoint stored. Written
        here, on the run's thread, once the batch is known committed: on the writer, the
        critical path, it cost a statement and its commit a batch."""
        counts, self._handed = self._handed, None
        _progress_committed(self.run, counts)

    def abort(self) -> None:
        """The run failed: roll back the batch in flight and end the thread."""
        self._inbox.put(_STOP)
        self._inbox.put(_STOP)
        self._join()

    def _join(self) -> None:
        self._thread.join()
        if not self._joined:  # close() then abort() when the last batch's commit failed
            self._joined = True
            _handoff_exit()

    # --- the thread ---------------------------------------------------------------------

    def _work(self) -> None:
        from django.db import transaction

        run = self.run
        try:
            relaxed_commits(session=True)
            while True:
                item = self._inbox.get()
                if item is _STOP:
                    return
                rows, plan = item
                with transaction.atomic():
                    self._outbox.put(run.write_stage(rows, plan))
                    _deferred_checks()
                    handed = self._inbox.get()
                    if handed is _STOP:
                        raise _Stopped()
                    run.batch_log_and_checkpoint(*handed)
                    self._outbox.put(_SENT)
        except _Stopped:
            return
        except BaseException as exc:  # raised again on the run's thread
            self._error = exc
            self._outbox.put(exc)
        finally:
            connection.close()  # this thread's own connection


class _Stopped(Exception):
    pass


def sqlite_writer_usable() -> bool:
    """Whether another process can write this SQLite database: a file (a database in memory
    is its connection's alone)."""
    name = str(connection.settings_dict["NAME"])
    return name != ":memory:" and "mode=memory" not in name


def _progress_committed(run, counts: dict[str, int] | None) -> None:
    """The job's progress (its page, a terminal's line) shows the counts of the batch just
    committed. Its checkpoint, committed with it, wrote them to the job's row already."""
    if counts is not None and run.progress is not None:
        run.progress.update(**counts, stored=True)


class ProcessWriter:
    """SQLite: ``BatchWriter``'s part played by a process (``jobs/sqlite_writer.py``).

    SQLite works inside the process that calls it: a writer thread would share this one's
    interpreter lock, and measured slower than none. Here each batch's statements are made
    on the run's thread, as they would be run (``jobs.writer_process.capture``: keys reserved,
    values converted), and sent; the process runs them while this thread prepares the next
    batch.
    The order is ``BatchWriter``'s: a batch's outcome is known before it is recorded, and its
    records, change log, row log and checkpoint commit together.

    If the process finds that someone else wrote one of the batch's keys meanwhile, it rolls
    the batch back, and the batch is written here row by row (``write_fallback``'s way),
    its row log and checkpoint with it. If the process dies, the run fails with what it
    committed (and its checkpoint) intact.
    """

    def __init__(self, run):
        self.run = run
        self._process = WriterProcess()
        self._reserved: dict[str, int] = {}  # the keys given out (``Script.reserved``)
        self._rows: list = []
        self._refused: DatabaseError | None = None  # met while the batch's statements were made
        self._handed: dict[str, int] | None = None
        self._finishing = False  # a batch's commit sent, its answer not read yet
        self._rolled_back = False  # the process rolled the batch in hand back
        self._local = None  # the batch's transaction on this connection, when written here

    def _script(self) -> Script:
        return Script(self._reserved, self._process.limit)

    def write(self, rows: list, plan) -> None:
        run = self.run
        run.now = timezone.now()
        self._rows = rows
        script = self._script()
        try:
            with capture(script):
                run.write(rows, plan)
        except DatabaseError as exc:  # refused while its statements were made: none is sent
            self._refused = exc
            return
        self._process.send([("begin",), *script.ops, ("reply",)])

    def written(self) -> bool:
        """As ``BatchWriter.written``; the batch's failures are taken as ``write_stage`` takes
        them: a key someone else wrote meanwhile, the batch written here row by row; any
        other refusal, the reason on each of its rows."""
        self._settle()
        failure, self._refused = self._refused, None
        if failure is None:
            try:
                self._process.reply()
            except WriterFailed as exc:
                failure = exc.error()
            else:
                self._rolled_back = False
                return False
        self._rolled_back = True  # the process holds no transaction for this batch
        if isinstance(failure, IntegrityError):
            return self._write_here(self._rows)
        self.run.batch_refused(self._rows, failure)
        return True

    def _write_here(self, rows: list) -> bool:
        """The batch, one row at a time, in a transaction of this connection that its row
        log and checkpoint join (``finish``). The process is idle: the write lock is free."""
        self._local = transaction.atomic()
        self._local.__enter__()
        try:
            self.run.write_one_by_one(rows)
        except DatabaseError as exc:
            self.run.batch_refused(rows, exc)
            return True
        return False

    def finish(self, *, entries: list[dict], checkpoint: dict[str, Any]) -> None:
        run = self.run
        if self._local is not None:
            local, self._local = self._local, None
            try:
                run.batch_log_and_checkpoint(entries, checkpoint)
            except BaseException as exc:
                local.__exit__(type(exc), exc, exc.__traceback__)
                raise
            local.__exit__(None, None, None)
            _progress_committed(run, checkpoint["job_counts"])
            return
        script = self._script()
        with capture(script):
            run.batch_log_and_checkpoint(entries, checkpoint)
        begin = [("begin",)] if self._rolled_back else []
        self._handed = checkpoint["job_counts"]
        self._process.send([*begin, *script.ops, ("commit",), ("reply",)])
        self._finishing = True

    def _settle(self) -> None:
        """Read the answer to the last batch's commit: raise as its commit would have."""
        if not self._finishing:
            return
        self._finishing = False
        try:
            self._process.reply()
        except WriterFailed as exc:
            raise exc.error() from None
        counts, self._handed = self._handed, None
        _progress_committed(self.run, counts)

    def close(self) -> None:
        """After the last ``finish``: wait for its commit; raise what it met."""
        try:
            self._settle()
        finally:
            self._process.close()

    def abort(self) -> None:
        """The run failed: the batch in hand is rolled back, here and in the process."""
        if self._local is not None:
            local, self._local = self._local, None
            error = RuntimeError("the run failed")
            local.__exit__(RuntimeError, error, None)
        self._process.close()


def _deferred_checks() -> None:
    """PostgreSQL: the checks the batch's foreign keys (deferred, as Django declares them)
    would make at its commit, made now, while the run's thread records the batch and this
    thread would only wait for its row log: the commit, on the critical path, is left
    short (100k contacts: the commit took ~0.7 s of database CPU, the wait ~0.2-0.4 s). A
    refused key fails the batch's transaction, as at its commit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def counts_minus(counts: Counter, delta: Counter) -> dict[str, int]:
    """``counts`` without what ``delta`` added (a batch prepared but not yet committed)."""
    out = {}
    for key, value in counts.items():
        left = value - delta.get(key, 0)
        if left or key not in delta:
            out[key] = left
    return out


def counts_added(before: Counter, after: Counter) -> Counter:
    return Counter({k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)})
