"""The cyclic garbage collector runs less often while imports run (process-wide)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_gc_lock = threading.Lock()
_gc_runs = 0
_gc_saved: tuple[int, int, int] | None = None
# Young objects allocated between automatic collections while an import runs (default 700).
IMPORT_GC_THRESHOLD = 50_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Let the cyclic garbage collector run less often while an import runs.

    A batch allocates a few objects per cell (rows, dicts, parsed values), nearly all freed by
    reference counting; with the default threshold the collector still ran every 700
    allocations and cost ~12 % of the importer's CPU. Process-wide, so the first import to
    start raises it and the last to end restores it (Huey may run imports in threads).
    """
    global _gc_runs, _gc_saved
    with _gc_lock:
        if _gc_runs == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(max(IMPORT_GC_THRESHOLD, _gc_saved[0]), *_gc_saved[1:])
        _gc_runs += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_runs -= 1
            if _gc_runs == 0 and _gc_saved is not None:
                gc.set_threshold(*_gc_saved)
                _gc_saved = None
