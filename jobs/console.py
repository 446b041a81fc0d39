"""A progress line on a terminal, for the command-line import and export.

It speaks the same interface as ``jobs.services.JobProgress`` (set_total, update, check_cancel),
so an engine reports to it without knowing whether a person is watching a terminal. Given an
``inner`` progress (the job's), every call is passed on and the line is drawn on top.
"""

from __future__ import annotations

import time
from typing import Any, TextIO


class TerminalProgress:
    # Redrawing more often than this only costs time; a person cannot read it faster.
    REDRAW_SECONDS = 0.2

    def __init__(self, stream: TextIO | None, inner: Any = None):
        self.stream = stream  # None: count silently (not a terminal, or --quiet)
        self.inner = inner
        self.total: int | None = None
        self.started = time.monotonic()
        self.last = 0.0

    def set_total(self, total: int | None) -> None:
        self.total = total
        if self.inner is not None:
            self.inner.set_total(total)

    def check_cancel(self, **kwargs) -> None:
        if self.inner is not None:
            self.inner.check_cancel(**kwargs)

    def update(self, *, processed: int, force: bool = False, **counts) -> bool:
        written = False
        if self.inner is not None:
            written = self.inner.update(processed=processed, force=force, **counts)
        now = time.monotonic()
        if self.stream is None or not (force or now - self.last >= self.REDRAW_SECONDS):
            return written
        self.last = now
        total = self.inner.job.total if self.inner is not None else self.total
        rate = processed / max(now - self.started, 1e-6)
        if total:
            share = min(1.0, processed / total)
            bar = "#" * int(share * 30)
            line = (
                f"\r[{bar:<30}] {share * 100:5.1f}%  {processed:,}/{total:,} rows  "
                f"{rate:,.0f} rows/s"
            )
        else:
            line = f"\r{processed:,} rows  {rate:,.0f} rows/s"
        self.stream.write(line)
        self.stream.flush()
        return written or self.inner is None

    def finish(self) -> None:
        if self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()
