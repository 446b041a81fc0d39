"""Job lifecycle: pending → queued → running → completed | failed | cancelled.

``wizard`` and ``reports`` own their Huey tasks; they create a job here, queue it with their task,
and inside the task call ``job_run`` which starts, reports progress, checks for cancellation and
finishes the job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.core.files.base import File
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from jobs.errors import FerryError, JobCancelled
from jobs.models import DataJob, JobLogEntry
from jobs.selectors import jobs_expired

logger = logging.getLogger(__name__)
Status = DataJob.Status

# A progress write happens at each whole percent; with no known total, at most this often.
PROGRESS_MIN_INTERVAL = 1.0
MAX_UNKNOWN_TOTAL_WRITES = 100
# A running job writes a heartbeat at least this often, so slow jobs are not taken as stalled.
HEARTBEAT_INTERVAL = 30.0


def job_create(
    *,
    organization,
    user,
    job_type: str,
    target: str,
    format: str = "",
    params: dict[str, Any] | None = None,
    input_file: File | None = None,
    input_filename: str = "",
) -> DataJob:
    job = DataJob.objects.create(
        organization=organization,
        user=user,
        job_type=job_type,
        target=target,
        format=format,
        params=params or {},
        input_filename=input_filename or (getattr(input_file, "name", "") or ""),
    )
    if input_file is not None:
        # Saved after create so the path contains the job id.
        job.input_file.save(job.input_filename or "upload", input_file, save=True)
    return job


def job_queue(*, job: DataJob, task: Callable[..., Any], **task_kwargs: Any) -> DataJob:
    """Mark the job queued and hand it to the worker once the surrounding transaction commits."""
    now = timezone.now()
    DataJob.objects.filter(pk=job.pk).update(status=Status.QUEUED, queued_at=now)
    job.status, job.queued_at = Status.QUEUED, now

    def enqueue() -> None:
        # Build the task first so its id is known even with Huey's result store turned off.
        signature = task.s(job.pk, **task_kwargs)
        DataJob.objects.filter(pk=job.pk).update(task_id=signature.id)
        task.huey.enqueue(signature)

    transaction.on_commit(enqueue)
    return job


def job_start(*, job: DataJob) -> bool:
    """Move a queued job to running. False if it was cancelled or already taken."""
    now = timezone.now()
    started = DataJob.objects.filter(
        pk=job.pk, status__in=[Status.PENDING, Status.QUEUED], cancel_requested=False
    ).update(status=Status.RUNNING, started_at=now, heartbeat_at=now)
    if not started:
        job.refresh_from_db()
        if job.cancel_requested and job.status in (Status.PENDING, Status.QUEUED):
            _finish(job, Status.CANCELLED)
        return False
    job.status, job.started_at, job.heartbeat_at = Status.RUNNING, now, now
    return True


class JobProgress:
    """Reports progress of one running job with a bounded number of database writes."""

    def __init__(self, job: DataJob, *, clock: Callable[[], float] = time.monotonic):
        self.job = job
        self.clock = clock
        self.writes = 0
        self._last_percent = -1
        self._last_write = clock()
        self._last_cancel_check = clock()

    def set_total(self, total: int | None) -> None:
        self.job.total = total
        DataJob.objects.filter(pk=self.job.pk).update(total=total)

    def update(
        self,
        *,
        processed: int,
        succeeded: int | None = None,
        failed: int | None = None,
        skipped: int | None = None,
        force: bool = False,
    ) -> bool:
        """Record counts in memory; write them when a percent step passed. Returns True if written."""
        job = self.job
        job.processed = processed
        if succeeded is not None:
            job.succeeded = succeeded
        if failed is not None:
            job.failed = failed
        if skipped is not None:
            job.skipped = skipped
        now = self.clock()
        if job.total:
            percent = int(processed * 100 / job.total)
            due = percent > self._last_percent
        else:
            percent = self._last_percent
            due = (
                now - self._last_write >= PROGRESS_MIN_INTERVAL
                and self.writes < MAX_UNKNOWN_TOTAL_WRITES
            )
        due = due or force or now - self._last_write >= HEARTBEAT_INTERVAL
        if not due:
            return False
        self._last_percent = percent
        self._last_write = now
        self.writes += 1
        DataJob.objects.filter(pk=job.pk).update(
            processed=job.processed,
            succeeded=job.succeeded,
            failed=job.failed,
            skipped=job.skipped,
            heartbeat_at=timezone.now(),
        )
        return True

    def check_cancel(self, *, force: bool = False) -> None:
        """Raise JobCancelled if the user asked to cancel. Call between batches."""
        now = self.clock()
        if not force and now - self._last_cancel_check < 0.5:
            return
        self._last_cancel_check = now
        if DataJob.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise JobCancelled()


def _finish(job: DataJob, status: str, **fields: Any) -> None:
    now = timezone.now()
    fields.update(status=status, finished_at=now, heartbeat_at=now)
    DataJob.objects.filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)


def job_complete(*, job: DataJob, summary: dict[str, Any] | None = None) -> None:
    fields: dict[str, Any] = {
        "processed": job.processed,
        "succeeded": job.succeeded,
        "failed": job.failed,
        "skipped": job.skipped,
    }
    if job.total is None:
        fields["total"] = job.processed
    if summary is not None:
        fields["summary"] = summary
    _finish(job, Status.COMPLETED, **fields)


def job_fail(*, job: DataJob, exc: BaseException | None = None, message: str = "") -> None:
    """End the job as failed with a message safe to show; the traceback goes to the log only."""
    if not message:
        if isinstance(exc, FerryError):
            message = exc.message
        else:
            message = (
                f"The job stopped because of an unexpected error (reference: job {job.pk}). "
                "The details are in the server log."
            )
    if exc is not None and not isinstance(exc, FerryError):
        logger.error("Job %s failed", job.pk, exc_info=exc)
    _finish(
        job,
        Status.FAILED,
        error_message=message,
        processed=job.processed,
        succeeded=job.succeeded,
        failed=job.failed,
        skipped=job.skipped,
    )


def job_cancel(*, job: DataJob) -> DataJob:
    """Cancel a job: at once if not started yet; a running task stops between batches."""
    if job.is_finished:
        return job
    DataJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    job.cancel_requested = True
    stopped = DataJob.objects.filter(pk=job.pk, status__in=[Status.PENDING, Status.QUEUED]).update(
        status=Status.CANCELLED, finished_at=timezone.now()
    )
    if stopped:
        job.status = Status.CANCELLED
        _revoke_task(job)
    return job


def _revoke_task(job: DataJob) -> None:
    if not job.task_id:
        return
    try:
        from huey.contrib.djhuey import HUEY

        HUEY.revoke_by_id(job.task_id)
    except Exception:  # the task also checks the job's status when it starts
        logger.warning("Could not revoke task %s of job %s", job.task_id, job.pk, exc_info=True)


def job_mark_stalled_failed(*, job: DataJob) -> bool:
    """A job whose worker died: end it as failed so the user can retry."""
    if not job.is_stalled:
        return False
    _finish(
        job,
        Status.FAILED,
        error_message="The worker running this job stopped responding; the job was marked failed.",
    )
    return True


def job_log(*, job: DataJob, entries: Iterable[JobLogEntry | dict[str, Any]]) -> int:
    """Append row-log entries in bulk."""
    objs = [e if isinstance(e, JobLogEntry) else JobLogEntry(job=job, **e) for e in entries]
    for e in objs:
        e.job = job
        e.value = "" if e.value is None else str(e.value)[:2000]
    JobLogEntry.objects.bulk_create(objs, batch_size=1000)
    return len(objs)


def job_save_output(*, job: DataJob, path_or_file, filename: str) -> None:
    """Store a generated file as the job's output (through Django's storage API)."""
    if isinstance(path_or_file, str | bytes) or hasattr(path_or_file, "__fspath__"):
        with open(path_or_file, "rb") as fh:
            job.output_file.save(filename, File(fh), save=False)
    else:
        job.output_file.save(filename, File(path_or_file), save=False)
    job.output_filename = filename
    DataJob.objects.filter(pk=job.pk).update(
        output_file=job.output_file.name, output_filename=filename
    )


def job_run(job_id: int, work: Callable[[DataJob, JobProgress], dict[str, Any] | None]) -> None:
    """Run ``work`` for a job inside a task: start, progress, cancellation, completion, failure."""
    try:
        job = DataJob.objects.get(pk=job_id)
    except DataJob.DoesNotExist:
        logger.warning("Job %s no longer exists; task skipped", job_id)
        return
    if not job_start(job=job):
        return
    progress = JobProgress(job)
    try:
        summary = work(job, progress)
    except JobCancelled:
        _finish(
            job,
            Status.CANCELLED,
            processed=job.processed,
            succeeded=job.succeeded,
            failed=job.failed,
            skipped=job.skipped,
        )
    except Exception as exc:
        job_fail(job=job, exc=exc)
    else:
        job_complete(job=job, summary=summary)


def jobs_purge(*, older_than: timedelta | None = None, now=None) -> tuple[int, int]:
    """Delete finished jobs and abandoned drafts (with their files) older than the retention age.

    Returns (jobs, files). The rule is ``jobs_expired``'s.
    """
    old = jobs_expired(older_than=older_than, now=now)
    files = 0
    count = 0
    for job in old.iterator(chunk_size=500):
        # Delete only if the status is still the one read: a draft started meanwhile is queued
        # now and keeps its uploaded file. Row first, so a kept job never loses its files.
        deleted, _ = DataJob.objects.filter(pk=job.pk, status=job.status).delete()
        if not deleted:
            continue
        for f in (job.input_file, job.output_file):
            # A wizard preview reads its draft's upload under the same name: a file another job
            # still points at stays until that job goes too.
            if f and f.name and not _file_referenced(f.name):
                f.storage.delete(f.name)
                files += 1
        for extra in job.summary.get("files", {}).values() if isinstance(job.summary, dict) else ():
            # The contract is {"name": <storage name>, "filename": ...}; a bare name is accepted too.
            name = extra.get("name") if isinstance(extra, dict) else extra
            if isinstance(name, str) and name:
                job.input_file.storage.delete(name)
                files += 1
        count += 1
    return count, files


def _file_referenced(name: str) -> bool:
    return DataJob.objects.filter(Q(input_file=name) | Q(output_file=name)).exists()


def job_bump(*, job: DataJob, **counts: int) -> None:
    """Add to counters atomically (used when several tasks report on one job)."""
    DataJob.objects.filter(pk=job.pk).update(**{k: F(k) + v for k, v in counts.items()})
