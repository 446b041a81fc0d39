"""Writing each batch in a process of its own while the run prepares the next one.

A skip-invalid import spends about as long waiting for the database (inserts, updates, change
log, row log, checkpoint, commit) as it spends in Python (parsing, keys, lookups). Done one
after the other, the two add up and one of the machine's cores idles. Here the run's thread
prepares batch N+1 (parse, keys, references, existing records: reads only; then its writes
made as statements: keys reserved, values converted, COPY's rows formatted) while the writer
process (``jobs/db_writer.py``) runs batch N's statements on a connection of its own.

Why a process and not a thread: on SQLite the database works inside the process that calls
it, so a thread would share this one's interpreter lock (measured slower than none). On
PostgreSQL a writer thread did overlap the server's work, but each of its ~35 waits a batch
for the server ended in a wait for the lock the run's thread held (~0.8 ms each: a quarter of
the writer's time, and the writer was the critical path). Against that thread, and a thread
reading the next batches ahead, the process took 300k contacts in 6.3-6.5 s instead of 8.1 s
(COPY alone: 4.2 s), with reading ahead left out: beside a writer that needs no lock it only
took the lock from the run's thread.

The order of what a person sees is kept: a batch's outcome (written, or refused by the
database with its reason on every row) is known before the run records it; its records,
change log, row log and checkpoint commit together, in one transaction of the writer's, as
``ImportRun._batch`` does; the checkpoint counts exactly the batches it commits, so a run
resumed after a dead worker counts nothing twice.

What a later batch's preparation would need from an earlier batch's uncommitted writes is
never split this way (``ImportRun.overlap_allowed``): references created for missing keys,
records of the same file referenced by later rows, variants, "last row wins" repeats,
all-or-nothing runs (one transaction, one connection), previews, and runs inside an outer
transaction (tests): those run on one thread, one batch after the other.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from jobs.writer_process import Script, WriterFailed, WriterProcess, capture
from wizard.engine.writing import RELAXED_COMMITS


class BatchLog:
    """The run's row log while batches are written by the writer process: each batch's entries
    are held until the batch is handed over, then written in the batch's transaction."""

    deferred = False

    def __init__(self):
        self.entries: list[dict] = []

    def add(self, entries: list[dict]) -> None:
        self.entries.extend(entries)

    def take(self) -> list[dict]:
        entries, self.entries = self.entries, []
        return entries


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
    """The run's writer: each batch's statements are made on the run's thread, as they would
    be run (``jobs.writer_process.capture``: keys reserved, values converted, COPY's rows
    formatted), and sent; the process runs them while this thread prepares the next batch.

    ``write(rows, plan)`` sends a batch's writes in a transaction of the process's;
    ``written()`` waits for their outcome; ``finish(...)`` sends the batch's row log and
    checkpoint, which commit with it (the job's progress shows its counts once it is known
    committed); ``close()`` after the last batch, ``abort()`` if the run failed.

    If the process finds that someone else wrote one of the batch's keys meanwhile, it rolls
    the batch back, and the batch is written here row by row (``write_fallback``'s way),
    its row log and checkpoint with it. If the process dies, the run fails with what it
    committed (and its checkpoint) intact.
    """

    def __init__(self, run):
        self.run = run
        self._process = WriterProcess()
        if connection.vendor == "postgresql":
            # The process's connection is the run's alone, so it says this once, for every
            # batch's commit (``relaxed_commits``: the batches of a skip-invalid run stand alone).
            try:
                self._process.send([("run", RELAXED_COMMITS, []), ("reply",)])
                self._process.reply()
            except BaseException:
                self._process.close()
                raise
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
        """Wait until the batch last given to ``write`` is written (not yet committed); True
        if the database refused it (its rows say why). A key someone else wrote meanwhile:
        the batch is written here row by row; any other refusal: the reason on each of its
        rows. The batch before is known committed by then."""
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
