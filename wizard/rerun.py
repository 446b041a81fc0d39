"""The failed-rows file, fixed by a person and uploaded again, goes into the same import.

Only those rows run, through the same engine and settings as the first pass, into the SAME job:
its counts move (a row that now succeeds leaves "failed" for "succeeded"), its change log grows
(so one undo takes back both passes) and its row log is brought up to date (the old errors of a
row that now succeeds are kept, marked resolved; a row that fails again gets its new errors in
place of the old). Rows are matched back by the file's "Ferry row" column, written by the first
pass; a file whose rows are not this import's failed rows is refused as a whole.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat
from django.utils import timezone

from business.audit import audit_record
from business.models import AuditEvent
from jobs.errors import FerryError
from jobs.models import DataJob, JobLogEntry
from wizard.engine import import_execute
from wizard.engine.params import ImportParams
from wizard.engine.sinks import ROW_COLUMN
from wizard.readers import FileInfo, ReaderError, SourceRow, file_inspect, rows_read
from wizard.services.draft import _permission_check
from wizard.services.failed_rows import _failed_rows_save

RESOLVED = "Resolved by the re-import of the fixed failed rows"


class FailedRowsRefused(FerryError):
    pass


def _failed_numbers(job: DataJob) -> set[int]:
    return set(
        JobLogEntry.objects.filter(job=job, level=JobLogEntry.Level.ERROR, row_number__isnull=False)
        .values_list("row_number", flat=True)
        .distinct()
    )


def _check_job(job: DataJob) -> ImportParams:
    params = ImportParams.from_job(job)
    if job.job_type != DataJob.Type.IMPORT or params.dry_run or params.preview_for:
        raise FailedRowsRefused("This job is not an import.")
    if job.status != DataJob.Status.COMPLETED:
        raise FailedRowsRefused("Fixed rows can be imported once the import has completed.")
    if (job.summary or {}).get("undo"):
        raise FailedRowsRefused("This import was undone; start a new import with the file.")
    if not job.failed:
        raise FailedRowsRefused("No row of this import failed, so there is nothing to re-import.")
    return params


def _read(path: str, info: FileInfo, headers: list[str], failed: set[int]) -> list[SourceRow]:
    """The uploaded rows in the first file's column order, each with its original number."""
    if ROW_COLUMN not in info.headers:
        raise FailedRowsRefused(
            f"The file has no '{ROW_COLUMN}' column. Upload the failed-rows file downloaded from "
            "this import (fixed, with its columns kept)."
        )
    missing = [h for h in headers if h not in info.headers]
    if missing:
        raise FailedRowsRefused(
            f"The file has no column '{missing[0]}', which this import reads. Keep the columns of "
            "the failed-rows file as they are."
        )
    at = {h: i for i, h in reversed(list(enumerate(info.headers)))}
    number_at = at[ROW_COLUMN]
    rows: list[SourceRow] = []
    seen: set[int] = set()
    for source in rows_read(path, info=info):
        cells = list(source.values)
        raw = cells[number_at] if number_at < len(cells) else ""
        if all(c in (None, "") for c in cells):
            continue
        try:
            number = int(float(str(raw).strip()))
        except ValueError:
            raise FailedRowsRefused(
                f"Line {source.number} of the file has no row number in '{ROW_COLUMN}' "
                f"('{raw}'): keep that column as it was downloaded."
            ) from None
        if number not in failed:
            raise FailedRowsRefused(
                f"Row {number} (line {source.number} of the file) is not a failed row of this "
                "import: upload only the failed-rows file of this import."
            )
        if number in seen:
            raise FailedRowsRefused(f"Row {number} is in the file twice.")
        seen.add(number)
        values = [cells[at[h]] if at[h] < len(cells) else "" for h in headers]
        rows.append(SourceRow(number, values))
    if not rows:
        raise FailedRowsRefused("The file has no rows.")
    return rows


def failed_rows_import(*, job: DataJob, file, filename: str, user) -> dict[str, Any]:
    """Import a fixed failed-rows file into ``job``; returns what this pass did."""
    params = _check_job(job)
    _permission_check(job)
    headers = list(FileInfo.from_dict(params.file_info).headers)
    suffix = Path(filename or "").suffix or ".csv"
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as tmp:
        for chunk in file.chunks() if hasattr(file, "chunks") else [file.read()]:
            tmp.write(chunk)
        path = tmp.name
    try:
        try:
            info = file_inspect(path)
        except ReaderError as exc:
            raise FailedRowsRefused(exc.message) from None
        with transaction.atomic():
            # One pass at a time: a second upload waits for the first and then finds its
            # rows no longer failed.
            job = DataJob.objects.select_for_update().get(pk=job.pk)
            _check_job(job)
            processed = job.processed  # the engine's progress counts this pass's rows only
            rows = _read(path, info, headers, _failed_numbers(job))
            numbers = [r.number for r in rows]
            # The old errors of these rows are set aside while the pass writes its own.
            old = JobLogEntry.objects.filter(job=job, row_number__in=numbers)
            old_ids = list(old.values_list("pk", flat=True))
            summary = import_execute(
                job=job,
                settings=params.settings(mode="skip-invalid", dry_run=False, limit=None),
                headers=headers,
                source=iter(rows),
                progress=None,
                row_estimate=len(rows),
            )
            spool = summary.pop("_failed_rows_path", None)
            still = set(
                JobLogEntry.objects.filter(
                    job=job, level=JobLogEntry.Level.ERROR, row_number__in=numbers
                )
                .exclude(pk__in=old_ids)
                .values_list("row_number", flat=True)
            )
            fixed = [n for n in numbers if n not in still]
            # Rows that failed again: their new errors replace the old ones.
            JobLogEntry.objects.filter(pk__in=old_ids, row_number__in=still).delete()
            # Rows that now succeed: the old errors stay as history, marked resolved.
            JobLogEntry.objects.filter(pk__in=old_ids, row_number__in=fixed).update(
                level=JobLogEntry.Level.INFO,
                message=Concat(Value(f"{RESOLVED} ({filename}): "), "message"),
            )
            result = _counts_merge(job=job, summary=summary, rows=len(rows), fixed=len(fixed))
            result["filename"] = filename
            _files_update(job=job, spool=spool, params=params, failed_left=job.failed)
            job.processed = processed
            DataJob.objects.filter(pk=job.pk).update(
                processed=processed,
                succeeded=job.succeeded,
                failed=job.failed,
                skipped=job.skipped,
                summary=job.summary,
                # Undo compares records' last change with the import's end: records written
                # by this pass are the import's own, not edits made after it.
                finished_at=job.finished_at,
            )
        audit_record(
            organization=job.organization,
            user=user,
            event_type=AuditEvent.Type.IMPORT,
            obj=job,
            details={
                "failed_rows_reimported": len(rows),
                **{k: result[k] for k in ("created", "updated", "failed")},
            },
        )
        return result
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _counts_merge(*, job: DataJob, summary: dict, rows: int, fixed: int) -> dict[str, Any]:
    created, updated = int(summary.get("created", 0)), int(summary.get("updated", 0))
    failed_again = int(summary.get("failed", 0))
    skipped = int(summary.get("skipped", 0))
    job.succeeded = (job.succeeded or 0) + created + updated
    job.failed = max(0, (job.failed or 0) - rows + failed_again)
    job.skipped = (job.skipped or 0) + skipped
    job.finished_at = timezone.now()
    total = dict(job.summary or {})
    for key in ("created", "updated", "skipped", "unchanged", "warnings"):
        total[key] = int(total.get(key, 0) or 0) + int(summary.get(key, 0) or 0)
    total["failed"] = job.failed
    result = {
        "at": job.finished_at.isoformat(),
        "rows": rows,
        "fixed": fixed,
        "created": created,
        "updated": updated,
        "skipped": skipped,
        "failed": failed_again,
    }
    total["reruns"] = [*(total.get("reruns") or []), result]
    job.summary = total
    return result


def _files_update(*, job: DataJob, spool: str | None, params: ImportParams, failed_left: int):
    """The failed-rows file now lists only the rows that still fail."""
    files = dict((job.summary or {}).get("files") or {})
    old = files.pop("failed-rows", None)
    try:
        if spool and failed_left:
            info = FileInfo.from_dict(params.file_info)
            files["failed-rows"] = _failed_rows_save(job=job, spool=spool, info=info)
    finally:
        if spool:
            with contextlib.suppress(OSError):
                os.unlink(spool)
    if old and old.get("name") != (files.get("failed-rows") or {}).get("name"):
        with contextlib.suppress(OSError):
            default_storage.delete(old["name"])
    job.summary["files"] = files
