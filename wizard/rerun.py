"""The failed-rows file, fixed by a person and uploaded again, goes into the same import.

Only those rows run, through the same engine and settings as the first pass, into the SAME job:
its counts move (a row that now succeeds leaves "failed" for "succeeded"), its change log grows
(so one undo takes back both passes) and its row log is brought up to date (the old errors of a
row that now succeeds are kept, marked resolved; a row that fails again gets its new errors in
place of the old). Rows are matched back by the file's "Ferry row" column, written by the first
pass; a file whose rows are not this import's failed rows is refused as a whole.

The request only stores the file (through the storage API) and checks it against the import
(``failed_rows_start``); the pass itself is a job of its own run by the worker
(``failed_rows_run``), so a large file never holds a web request. That job points at the import
(params ``failed_rows_for``): its own counts are the pass's progress, the import's are what the
results page shows once the pass has committed.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Value
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils import timezone

from business.audit import audit_record
from business.models import AuditEvent
from jobs.errors import FerryError, LimitExceeded
from jobs.models import DataJob, JobLogEntry
from jobs.services import job_create, job_queue
from jobs.uploads import upload_too_large_message
from wizard.engine import import_execute
from wizard.engine.params import ImportParams
from wizard.engine.progress import SideProgress
from wizard.engine.sinks import ROW_COLUMN
from wizard.readers import FileInfo, ReaderError, SourceRow, file_inspect, rows_read
from wizard.services.draft import _permission_check, job_delete_files, job_input_path
from wizard.services.failed_rows import _failed_rows_save

RESOLVED = "Resolved by the re-import of the fixed failed rows"
# The pass job's params key naming the import it adds rows to.
FAILED_ROWS_FOR = "failed_rows_for"


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


def failed_rows_passes(*, job: DataJob):
    """The passes of fixed rows into ``job`` (jobs of their own), newest first."""
    return DataJob.objects.filter(
        organization=job.organization,
        job_type=DataJob.Type.IMPORT,
        **{f"params__{FAILED_ROWS_FOR}": job.pk},
    ).order_by("-pk")


def failed_rows_start(*, job: DataJob, file, filename: str, user) -> DataJob:
    """Store a fixed failed-rows file and queue its import into ``job``; returns the pass's job.

    Everything that can be told at once is checked here, before anything is queued: the
    import can take rows, no other pass is on its way, and the file is readable and holds
    only this import's failed rows (else FailedRowsRefused, and nothing is kept).
    """
    params = _check_job(job)
    _permission_check(job)
    limit = django_settings.FERRY["MAX_UPLOAD_BYTES"]
    if (getattr(file, "size", None) or 0) > limit:
        raise LimitExceeded(upload_too_large_message(limit))
    headers = list(FileInfo.from_dict(params.file_info).headers)
    filename = Path(filename or "").name or "fixed-rows.csv"
    with transaction.atomic():
        # One pass at a time: two uploads in a row would both find the same rows failed.
        locked = DataJob.objects.select_for_update().get(pk=job.pk)
        _check_job(locked)
        if failed_rows_passes(job=locked).filter(status__in=DataJob.ACTIVE).exists():
            raise FailedRowsRefused(
                "Fixed rows are already being imported into this import: wait until they are in."
            )
        run = job_create(
            organization=job.organization,
            user=user,
            job_type=DataJob.Type.IMPORT,
            target=job.target,
            target_label=f"{job.target_display} (fixed failed rows)",
            format=job.format,
            params={
                FAILED_ROWS_FOR: job.pk,
                # Who may read the pass's files: the import's own rule (jobs.selectors).
                "permission": params.permission,
                "result_url": reverse("wizard:results", args=[job.pk]),
            },
            input_file=file if isinstance(file, File) else File(file, name=filename),
            input_filename=filename,
        )
        try:
            with job_input_path(run) as path:
                _read(path, _inspect(path), headers, _failed_numbers(locked))
        except BaseException:
            job_delete_files(run)  # the stored file does not outlive the refusal
            raise
        # Run again from the start if its worker dies: the pass commits whole or not at all.
        return job_queue(job=run, task=_task(), on_stall=DataJob.OnStall.RERUN)


def _task():
    from wizard.tasks import failed_rows_task

    return failed_rows_task


def _inspect(path: str) -> FileInfo:
    try:
        return file_inspect(path)
    except ReaderError as exc:
        raise FailedRowsRefused(exc.message) from None


def _import_of(run: DataJob) -> DataJob:
    number = (run.params or {}).get(FAILED_ROWS_FOR)
    job = DataJob.objects.filter(pk=number, organization=run.organization).first()
    if job is None:
        raise FailedRowsRefused("The import these rows were for no longer exists.")
    return job


class _PassProgress:
    """The pass's progress while its import's row is locked in one long transaction.

    Its total is set before the transaction opens. On PostgreSQL the counts go through a
    second connection, so the page sees them at once (as an all-or-nothing run's do); on
    SQLite, one writer at a time, they show when the pass commits.
    """

    def __init__(self, progress):
        self.inner = progress
        self.side = (
            SideProgress(progress, job=progress.job) if connection.vendor == "postgresql" else None
        )

    def set_total(self, total) -> None:
        pass

    def check_cancel(self, **kwargs) -> None:
        self.inner.check_cancel(**kwargs)

    def update(self, **counts) -> bool:
        return (self.side or self.inner).update(**counts)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def failed_rows_run(*, job: DataJob, progress) -> dict[str, Any]:
    """The worker's body of one pass (``job``): its rows into the import it names."""
    target = _import_of(job)
    done = next(
        (r for r in (target.summary or {}).get("reruns") or [] if r.get("job") == job.pk), None
    )
    if done is not None:
        # The pass committed but its worker died before saying so: it is not run twice.
        return _pass_counts(job=job, target=target, result=done)
    params = _check_job(target)
    _permission_check(target)
    headers = list(FileInfo.from_dict(params.file_info).headers)
    with job_input_path(job) as path:
        info = _inspect(path)
        progress.set_total(len(_read(path, info, headers, _failed_numbers(target))))
        side = _PassProgress(progress)
        try:
            result = _pass_execute(
                job=job, target=target, params=params, path=path, info=info, progress=side
            )
        finally:
            side.close()
    audit_record(
        organization=target.organization,
        user=job.user,
        event_type=AuditEvent.Type.IMPORT,
        obj=target,
        details={
            "failed_rows_reimported": result["rows"],
            **{k: result[k] for k in ("created", "updated", "failed")},
        },
    )
    return _pass_counts(job=job, target=target, result=result)


def _pass_execute(*, job, target, params, path, info, progress) -> dict[str, Any]:
    filename = job.input_filename
    headers = list(FileInfo.from_dict(params.file_info).headers)
    with transaction.atomic():
        # The pass and the import's new counts commit together: a worker dying before the end
        # leaves the import as it was, and the pass runs again from the start.
        target = DataJob.objects.select_for_update().get(pk=target.pk)
        _check_job(target)
        processed = target.processed  # the engine's progress counts this pass's rows only
        rows = _read(path, info, headers, _failed_numbers(target))
        numbers = [r.number for r in rows]
        # The old errors of these rows are set aside while the pass writes its own.
        old = JobLogEntry.objects.filter(job=target, row_number__in=numbers)
        old_ids = list(old.values_list("pk", flat=True))
        summary = import_execute(
            job=target,
            settings=params.settings(mode="skip-invalid", dry_run=False, limit=None),
            headers=headers,
            source=iter(rows),
            progress=progress,
            row_estimate=len(rows),
        )
        spool = summary.pop("_failed_rows_path", None)
        still = set(
            JobLogEntry.objects.filter(
                job=target, level=JobLogEntry.Level.ERROR, row_number__in=numbers
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
        result = _counts_merge(
            job=target, summary=summary, rows=len(rows), fixed=len(fixed), run=job
        )
        _files_update(job=target, spool=spool, params=params, failed_left=target.failed)
        DataJob.objects.filter(pk=target.pk).update(
            processed=processed,
            succeeded=target.succeeded,
            failed=target.failed,
            skipped=target.skipped,
            summary=target.summary,
            # Undo compares records' last change with the import's end: records written
            # by this pass are the import's own, not edits made after it.
            finished_at=target.finished_at,
        )
    return result


def _pass_counts(*, job: DataJob, target: DataJob, result: dict[str, Any]) -> dict[str, Any]:
    """The pass job's own counts and summary: this pass's rows."""
    job.total = job.processed = int(result["rows"])
    job.succeeded = int(result["created"]) + int(result["updated"])
    job.failed = int(result["failed"])
    job.skipped = int(result["skipped"])
    return {FAILED_ROWS_FOR: target.pk, **result}


def failed_rows_message(result: dict) -> str:
    """What a pass did, in words (the results page, the command line)."""
    text = (
        f"{result['rows']:,} fixed row{'s' if result['rows'] != 1 else ''} re-imported: "
        f"{result['created']:,} created, {result['updated']:,} updated"
    )
    if result["failed"]:
        text += f", {result['failed']:,} still failing (see the row log)"
    return text + "."


def _counts_merge(
    *, job: DataJob, summary: dict, rows: int, fixed: int, run: DataJob
) -> dict[str, Any]:
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
        "job": run.pk,
        "filename": run.input_filename,
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
