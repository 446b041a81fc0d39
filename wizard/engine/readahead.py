"""Reading the next batches on a thread while the run writes this one.

The run waits on the database for much of each batch (lookups, COPY, the commit). Reading the
file and parsing its cells need no database, so a thread does them for the batches ahead: the
work the database does for batch N and the Python that reads batch N+1 overlap instead of
adding up (psycopg and sqlite3 let go of the GIL while they wait for the server).

Used only with the writer thread (pipeline.py, on PostgreSQL): alone, with the database's
work on the run's own thread, it measured slower than no thread at all. This thread never
touches the database. The queue is bounded, so memory stays a few batches whatever
the size of the file.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

# Batches waiting, read ahead of the one being written (the thread reads one more meanwhile):
# one keeps the thread busy while the run waits; each more costs a batch of rows in memory.
DEPTH = 1

_END = object()


class _Failed:
    def __init__(self, exc: BaseException):
        self.exc = exc


class ReadAhead:
    """Iterates ``batches`` on a thread, applying ``work`` to each (pure Python only)."""

    def __init__(
        self,
        batches: Iterator[list],
        work: Callable[[list], None] | None = None,
        *,
        depth: int = DEPTH,
    ):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._produce, args=(batches, work), name="ferry-read-ahead", daemon=True
        )
        self._thread.start()

    def _produce(self, batches: Iterator[list], work) -> None:
        try:
            for batch in batches:
                if self._stop.is_set():
                    return
                if work is not None:
                    work(batch)
                if not self._put(batch):
                    return
        except BaseException as exc:  # handed to the run's thread, which raises it
            self._put(_Failed(exc))
            return
        self._put(_END)

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[list]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.exc.with_traceback(item.exc.__traceback__)
            yield item

    def close(self) -> None:
        """Stop reading (the run ended, or failed) and wait for the thread."""
        self._stop.set()
        self._thread.join()  # a put waiting for room sees the stop within 0.1 s
