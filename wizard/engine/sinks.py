"""Where a run's findings go: the row log (held back while a transaction may roll back) and the
failed-rows spool a person downloads to fix and import again."""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Sequence
from typing import Any

from jobs.services import job_log
from wizard.engine.writing import jsonable


class LogSink:
    """Row-log entries; held in a temporary file while a transaction may still roll back."""

    def __init__(self, job):
        self.job = job
        self.deferred = False
        self._spool = None
        self._buffer: list[dict] = []

    def add(self, entries: list[dict]) -> None:
        if not entries:
            return
        if self.deferred:
            if self._spool is None:
                self._spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
            for e in entries:
                self._spool.write(json.dumps(e) + "\n")
        else:
            job_log(job=self.job, entries=entries)

    def flush(self) -> None:
        self.deferred = False
        if self._spool is None:
            return
        self._spool.seek(0)
        batch: list[dict] = []
        for line in self._spool:
            batch.append(json.loads(line))
            if len(batch) >= 2000:
                job_log(job=self.job, entries=batch)
                batch = []
        if batch:
            job_log(job=self.job, entries=batch)
        self._spool.close()
        self._spool = None


class NullLogSink(LogSink):
    """Drops entries: re-checking one row a person fixed in the preview logs nothing."""

    def add(self, entries: list[dict]) -> None:
        return None


# The failed-rows file's first column: each row's number in the uploaded file, so a fixed
# copy uploaded again is matched back to the rows of the same run (wizard/rerun.py).
ROW_COLUMN = "Ferry row"


class FailedRows:
    """The failed rows in their original columns plus ``error``, spooled to a temporary CSV,
    each led by its row number in the uploaded file (``ROW_COLUMN``)."""

    def __init__(self, headers: Sequence[str]):
        self.headers = list(headers)
        self.count = 0
        self._file = None
        self._writer = None

    def add(self, raw: Sequence[Any], error: str, *, number: int) -> None:
        if self._file is None:
            self._file = tempfile.NamedTemporaryFile(  # noqa: SIM115
                "w+", encoding="utf-8", newline="", suffix=".csv", delete=False
            )
            self._writer = csv.writer(self._file)
            self._writer.writerow([ROW_COLUMN, *self.headers, "error"])
        cells = ["" if v is None else jsonable(v) for v in raw]
        self._writer.writerow([number, *cells, error])
        self.count += 1

    def close(self) -> str | None:
        if self._file is None:
            return None
        self._file.close()
        return self._file.name


def row_message(row_number: int, column: str, text: str) -> str:
    if column:
        return f"Row {row_number}, column '{column}': {text}"
    return f"Row {row_number}: {text}"
