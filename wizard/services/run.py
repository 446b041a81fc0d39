"""The run body: the preview's child dry run, the queued real run, the in-process run of the
command line and ``import_run``, the body all of them execute.

``import_start`` queues the draft itself as the real run, which receives its params as
``ImportSettings``.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from business.audit import audit_record
from business.models import AuditEvent
from jobs.models import DataJob
from jobs.services import job_cancel, job_create, job_queue
from library.services import template_mark_used
from wizard.engine import ImportRolledBack, import_execute, run_class_for
from wizard.engine.params import ImportParams
from wizard.learning import learned_record
from wizard.models import ImportRow
from wizard.readers import FileInfo, ReadOptions, rows_read
from wizard.services.draft import (
    ImportStateError,
    _concurrency_check,
    _missing_required,
    _permission_check,
    _require_draft,
    job_input_path,
)
from wizard.services.failed_rows import _failed_rows_save


def import_preview_start(*, job: DataJob) -> DataJob:
    """Queue a dry run of the whole draft; its rows land on the draft as ImportRows."""
    from wizard.tasks import import_task

    _require_draft(job)
    params = ImportParams.from_job(job)
    _missing_required(params)
    _concurrency_check(job)
    if params.preview_job_id:
        old = DataJob.objects.filter(pk=params.preview_job_id, organization=job.organization)
        old = old.first()
        if old is not None and old.is_active:
            job_cancel(job=old)
    child = import_job_reading(
        source=job, user=job.user, params=params.preview_copy(draft=job).as_dict()
    )
    ImportParams.update(job, preview_job_id=child.pk)
    job_queue(job=child, task=import_task)
    return child


def import_job_reading(*, source: DataJob, user, params: dict[str, Any]) -> DataJob:
    """A new import job reading ``source``'s stored file where it is, no copy (retention deletes
    a file only once no job points at it): a preview of a draft, a multi-target run again."""
    job = job_create(
        organization=source.organization,
        user=user,
        job_type=DataJob.Type.IMPORT,
        target=source.target,
        target_label=source.target_label,
        format=source.format,
        params=params,
    )
    job.input_file.name = source.input_file.name
    job.input_filename = source.input_filename
    job.save(update_fields=["input_file", "input_filename"])
    return job


def _run_checked(job: DataJob) -> ImportParams:
    """The checks before a draft's real run, queued or in this process; its params."""
    _require_draft(job)
    params = ImportParams.from_job(job)
    params.settings()
    _missing_required(params)
    _concurrency_check(job)
    return params


def import_start(*, job: DataJob) -> DataJob:
    """Queue the real run of a draft (or a dry run when its params say so)."""
    from wizard.tasks import import_task

    params = _run_checked(job)
    if params.template_id:
        template_mark_used(template=params.template_id, organization=job.organization)
    learned_record(job=job)  # the person's corrections are suggested next time (not dry runs)
    return job_queue(job=job, task=import_task, on_stall=_on_stall(job))


def _on_stall(job: DataJob) -> str:
    """What to do if the worker dies: see ``jobs.services.job_recover``."""
    settings = ImportParams.from_job(job).settings()
    if settings.dry_run:
        return DataJob.OnStall.RERUN
    if settings.mode == "atomic":
        # Its one transaction died with the worker: nothing was written.
        return DataJob.OnStall.FAIL
    if run_class_for(settings.resource).resumable:
        return DataJob.OnStall.RESUME
    return DataJob.OnStall.FAIL


def import_run_now(*, job: DataJob, progress_wrap=None) -> DataJob:
    """Run a draft in this process (the command line), with the same checks as import_start."""
    from jobs.services import job_run_here

    _run_checked(job)
    learned_record(job=job)

    def work(j, progress):
        return import_run(job=j, progress=progress_wrap(progress) if progress_wrap else progress)

    return job_run_here(job, work)


def _edits_for(draft: DataJob) -> dict[int, dict[str, Any]]:
    return {
        number: edits
        for number, edits in ImportRow.objects.filter(job=draft)
        .exclude(edits={})
        .values_list("row_number", "edits")
        if edits
    }


def import_run(*, job: DataJob, progress) -> dict:
    """The body of an import: used by the worker task and by the command line in-process."""
    _permission_check(job)
    params = ImportParams.from_job(job)
    settings = params.settings()
    draft = job
    preview_for = params.preview_for
    if preview_for:
        draft = DataJob.objects.filter(pk=preview_for, organization=job.organization).first()
        if draft is None:
            raise ImportStateError("The import this preview was for no longer exists.")
    edits = _edits_for(draft)
    if preview_for:
        ImportRow.objects.filter(job=draft).delete()
    info = FileInfo.from_dict(params.file_info)
    with job_input_path(job) as path:
        source = rows_read(path, options=ReadOptions.from_dict(params.read), info=info)
        summary = import_execute(
            job=job,
            settings=settings,
            headers=info.headers,
            source=source,
            progress=progress,
            row_estimate=info.row_estimate,
            edits=edits,
            preview_job=draft if preview_for else None,
            # Set when the worker of an earlier attempt died: go on from its last batch.
            resume=job.checkpoint if job.on_stall == DataJob.OnStall.RESUME else None,
        )
    spool = summary.pop("_failed_rows_path", None)
    files = {}
    if spool:
        try:
            files["failed-rows"] = _failed_rows_save(job=job, spool=spool, info=info)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(spool)
    if files:
        summary["files"] = {**(job.summary.get("files") or {}), **files}
    if preview_for:
        # The formats this preview guessed are kept for the run; the person's own win.
        known = ImportParams.from_job(draft).date_formats
        ImportParams.update(draft, date_formats={**summary.get("date_formats", {}), **known})
        # The problems panel's sums, made here in the worker so no page view waits for them.
        from wizard.preview_problems import problems_sum  # it imports the wizard's flow

        summary.update(problems_sum(preview=job))
    elif not settings.dry_run:
        import_audit(
            job=job,
            details={
                k: summary.get(k)
                for k in (
                    "resource",
                    "mode",
                    "on_duplicate",
                    "total",
                    "created",
                    "updated",
                    "skipped",
                    "failed",
                    "rolled_back",
                )
            },
        )
    if summary.get("rolled_back"):
        # Nothing was written, whatever the progress said while the transaction was open.
        job.succeeded = 0
        job.summary = summary
        DataJob.objects.filter(pk=job.pk).update(summary=summary)
        failed = summary["failed"]
        raise ImportRolledBack(
            f"Nothing was imported: {failed:,} row{'s' if failed != 1 else ''} "
            f"{'have' if failed != 1 else 'has'} errors, and this import was set to all or nothing. "
            "Fix the rows listed in the log, or choose to skip invalid rows.",
            summary,
        )
    return summary


def import_audit(*, job: DataJob, details: dict[str, Any]) -> None:
    """The audit trail's entry for an import job that wrote (one target or several)."""
    audit_record(
        organization=job.organization,
        user=job.user,
        event_type=AuditEvent.Type.IMPORT,
        obj=job,
        details=details,
    )
