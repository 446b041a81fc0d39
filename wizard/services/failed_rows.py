"""Failed rows: the file of a run's rows that failed, in the upload's own format."""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage

from business.writers import Column, writer_for
from jobs.models import DataJob
from wizard.readers import FileInfo

EXCEL = ("xlsx", "xls", "ods")


def failed_rows_file(*, job: DataJob) -> dict | None:
    """The failed-rows file of a finished run: {"name", "filename"}, or None when none failed."""
    return ((job.summary or {}).get("files") or {}).get("failed-rows")


def _failed_rows_save(*, job: DataJob, spool: str, info: FileInfo) -> dict[str, str]:
    """Store the run's failed rows in the file's own format, through the export writers.

    The same writers as exports, so the file is neutralised the same way (a value such as
    ``=cmd|' /C calc'!A0`` is a text cell in XLSX and starts with an apostrophe in CSV, which
    an import drops again), and typed the same way.
    """
    stem = Path(job.input_filename or "import").stem or "import"
    fmt = info.format
    if fmt in EXCEL:
        ext = "xlsx"
    elif fmt in ("json", "jsonl"):
        ext = fmt
    else:
        ext = "csv"
    filename = f"{stem}-failed-rows.{ext}"
    with tempfile.NamedTemporaryFile(suffix=f".{ext}", delete=False) as out:
        out_path = out.name
    options = {}
    if ext == "csv":
        delimiter = info.delimiter or ","
        # The BOM lets Excel read accents; the file's own delimiter keeps it re-importable.
        options = {"delimiter": delimiter, "bom": True}
    try:
        with open(spool, encoding="utf-8", newline="") as src:
            reader = csv.reader(src)
            header = next(reader, [])
            # A row longer than the header keeps its extra cells, in columns of their own
            # before the error (the spool is on disk and holds only the failed rows).
            extra = max((len(row) for row in reader), default=0) - len(header)
            if extra > 0:
                header[-1:-1] = [f"(extra {n})" for n in range(1, extra + 1)]
            src.seek(0)
            next(reader, None)
            width = len(header)
            with writer_for(ext)(
                out_path,
                title=f"Failed rows of {job.input_filename or 'the import'}",
                organization_name=job.organization.name,
                options=options,
            ) as writer:
                writer.section("Failed rows", [Column(name=h, label=h) for h in header])
                # The spool has each row's cells and then its error: short rows are padded so
                # the error stays in its column.
                writer.rows(
                    row if len(row) == width else [*row[:-1], *[""] * (width - len(row)), row[-1]]
                    for row in reader
                )
        with open(out_path, "rb") as fh:
            name = default_storage.save(f"jobs/{job.organization_id}/{job.pk}/{filename}", File(fh))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(out_path)
    return {"name": name, "filename": filename}
