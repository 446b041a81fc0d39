"""Job lifecycle: pending → queued → running → completed | failed | cancelled.

``wizard`` and ``reports`` own their Huey tasks; they create a job here, queue it with their task,
and inside the task call ``job_run`` which starts, reports progress, checks for cancellation and
finishes the job.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings as django_settings
from django.core.files.base import File
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from jobs.bulk import inserter_for
from jobs.errors import FerryError, JobCancelled, JobTakenOver
from jobs.heartbeat import HEARTBEAT, process_name
from jobs.models import DataJob, JobLogEntry, WorkerHeartbeat
from jobs.selectors import jobs_expired, jobs_stalled

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
    target_label: str = "",
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
        target_label=target_label[:100],
        format=format,
        params=params or {},
        input_filename=input_filename or (getattr(input_file, "name", "") or ""),
    )
    if input_file is not None:
        # Saved after create so the path contains the job id.
        job.input_file.save(job.input_filename or "upload", input_file, save=True)
    return job


def job_queue(
    *,
    job: DataJob,
    task: Callable[..., Any],
    on_stall: str = DataJob.OnStall.RERUN,
    **task_kwargs: Any,
) -> DataJob:
    """Mark the job queued and hand it to the worker once the surrounding transaction commits.

    ``on_stall`` says what to do if the worker running it dies (see ``job_recover``): run it
    again (the default: exports, reports), resume it from its checkpoint, or fail it.
    """
    now = timezone.now()
    name = task.huey._registry.task_to_string(task.task_class)
    DataJob.objects.filter(pk=job.pk).update(
        status=Status.QUEUED,
        queued_at=now,
        task_name=name,
        task_kwargs=task_kwargs,
        on_stall=on_stall,
    )
    job.status, job.queued_at, job.task_name = Status.QUEUED, now, name
    job.task_kwargs, job.on_stall = task_kwargs, on_stall
    transaction.on_commit(lambda: _enqueue(job.pk, task.task_class, task.huey, task_kwargs))
    return job


def _enqueue(job_id: int, task_class, huey, task_kwargs: dict[str, Any]) -> None:
    # Build the task first so its id is known even with Huey's result store turned off.
    signature = task_class(args=(job_id,), kwargs=task_kwargs)
    DataJob.objects.filter(pk=job_id).update(task_id=signature.id)
    huey.enqueue(signature)


def job_start(*, job: DataJob) -> bool:
    """Move a queued job to running as a new attempt. False if it was cancelled or already taken."""
    now = timezone.now()
    worker = process_name()
    started = DataJob.objects.filter(
        pk=job.pk, status__in=[Status.PENDING, Status.QUEUED], cancel_requested=False
    ).update(
        status=Status.RUNNING,
        # A resumed job keeps the time it first started: its duration and rate stay honest.
        started_at=Coalesce("started_at", Value(now)),
        heartbeat_at=now,
        attempt=F("attempt") + 1,
        worker=worker,
    )
    job.refresh_from_db()
    if not started:
        if job.cancel_requested and job.status in (Status.PENDING, Status.QUEUED):
            _finish(job, Status.CANCELLED)
        return False
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
        stored: bool = False,
    ) -> bool:
        """Record counts in memory; write them when a percent step passed. Returns True if written.
        ``stored``: the database has them already (an import's checkpoint, committed with its
        batch, writes the same counts): keep them in memory only."""
        job = self.job
        job.processed = processed
        if succeeded is not None:
            job.succeeded = succeeded
        if failed is not None:
            job.failed = failed
        if skipped is not None:
            job.skipped = skipped
        if stored:
            return False
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


def _finish(job: DataJob, status: str, *, attempt: int | None = None, **fields: Any) -> bool:
    """End the job. With ``attempt``, only if that attempt is still the job's current one."""
    now = timezone.now()
    fields.update(status=status, finished_at=now, heartbeat_at=now)
    jobs = DataJob.objects.filter(pk=job.pk)
    if attempt is not None:
        jobs = jobs.filter(attempt=attempt, status=Status.RUNNING)
    if not jobs.update(**fields):
        return False
    for name, value in fields.items():
        setattr(job, name, value)
    return True


def job_complete(*, job: DataJob, summary: dict[str, Any] | None = None) -> bool:
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
    return _finish(job, Status.COMPLETED, attempt=_current_attempt(job), **fields)


def _current_attempt(job: DataJob) -> int | None:
    # Only a run started by job_start (attempt > 0) guards its end against a takeover.
    return job.attempt if job.status == Status.RUNNING and job.attempt else None


def job_fail(*, job: DataJob, exc: BaseException | None = None, message: str = "") -> bool:
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
    return _finish(
        job,
        Status.FAILED,
        attempt=_current_attempt(job),
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
    return _stalled_end(
        job,
        message="The worker running this job stopped responding; the job was marked failed.",
    )


def _stalled_message(job: DataJob, *, attempts: bool = False) -> str:
    if attempts:
        first = (
            f"The worker running this job stopped before it finished, {job.attempt} times, "
            "so it was not run again."
        )
    else:
        first = "The worker running this job stopped before it finished."
    if job.checkpoint:
        return f"{first} What it had committed is kept (see the counts)."
    return f"{first} Nothing of it was kept; start it again."


def _stalled_end(job: DataJob, *, message: str) -> bool:
    """Fail a stalled job, its counts being what is really committed.

    A job without a checkpoint kept nothing (an all-or-nothing import rolled back with its
    worker; an export's file was never stored): its counts go back to zero. One with a
    checkpoint keeps its counts, saved with the batches it committed.
    """
    committed = _checkpoint_counts(job)
    ended = _stalled(job).update(
        status=Status.FAILED,
        finished_at=timezone.now(),
        error_message=message,
        **committed,
    )
    if ended:
        job.refresh_from_db()
    return bool(ended)


def _checkpoint_counts(job: DataJob) -> dict[str, int]:
    counts = (job.checkpoint or {}).get("job_counts") or {}
    return {k: int(counts.get(k) or 0) for k in ("processed", "succeeded", "failed", "skipped")}


def _stalled(job: DataJob):
    """The job's row, only while it is still the stalled attempt that was read."""
    return DataJob.objects.filter(
        pk=job.pk, status=Status.RUNNING, attempt=job.attempt, heartbeat_at=job.heartbeat_at
    )


def job_recover(*, job: DataJob) -> str:
    """Handle a job whose worker died, as its ``on_stall`` says. Returns what was done.

    Resumable jobs (skip-invalid imports) are queued again and continue from their checkpoint;
    re-runnable ones (exports, reports, checks) start again from zero; the others (all-or-
    nothing imports) are failed with nothing written. A job whose worker died
    FERRY["JOB_MAX_ATTEMPTS"] times is failed: the job itself may be what kills the worker.
    """
    max_attempts = django_settings.FERRY["JOB_MAX_ATTEMPTS"]
    if job.on_stall == DataJob.OnStall.FAIL:
        done = _stalled_end(job, message=_stalled_message(job))
        action = "failed"
    elif job.attempt >= max_attempts or not job.task_name:
        done = _stalled_end(job, message=_stalled_message(job, attempts=True))
        action = "failed"
    else:
        fields: dict[str, Any] = {"status": Status.QUEUED, "queued_at": timezone.now()}
        if job.on_stall == DataJob.OnStall.RERUN:
            fields.update(processed=0, succeeded=0, failed=0, skipped=0, checkpoint={}, summary={})
            job.log_entries.all().delete()
            action = "rerun"
        else:
            # The counts the dead worker last wrote may be ahead of its last commit.
            fields.update(_checkpoint_counts(job))
            action = "resumed"
        done = _stalled(job).update(**fields)
        if done:
            _requeue(job)
    if not done:
        return "skipped"
    logger.warning("Job %s: worker %s stopped responding; job %s", job.pk, job.worker, action)
    return action


def _requeue(job: DataJob) -> None:
    from huey.contrib.djhuey import HUEY

    task_class = HUEY._registry.string_to_task(job.task_name)
    transaction.on_commit(lambda: _enqueue(job.pk, task_class, HUEY, job.task_kwargs or {}))


def jobs_recover_stalled(*, now=None) -> dict[str, int]:
    """Find every job whose worker died and handle it (the stalled-jobs task's body)."""
    done: Counter[str] = Counter()
    for job in jobs_stalled(DataJob.objects.all(), now=now).order_by("pk"):
        try:
            done[job_recover(job=job)] += 1
        except Exception:  # one job's trouble must not keep the others stuck
            logger.exception("Could not recover stalled job %s", job.pk)
            done["error"] += 1
    return dict(done)


# A row-log entry's attributes, and what one left out takes (the model fields' defaults).
_LOG_DEFAULTS = {
    f.attname: f.get_default()
    for f in JobLogEntry._meta.concrete_fields
    if not f.primary_key and f.attname != "job_id"
}


def job_log(*, job: DataJob, entries: Iterable[JobLogEntry | dict[str, Any]]) -> int:
    """Append row-log entries in bulk.

    Written as plain rows (``jobs.bulk``: COPY on PostgreSQL, one executemany on SQLite):
    an import logs every row it refuses, and model instances with bulk_create's per-field
    preparation cost several times the insert itself.
    """
    rows = []
    for e in entries:
        if isinstance(e, JobLogEntry):
            e = {a: getattr(e, a) for a in _LOG_DEFAULTS}
        elif not e.keys() <= _LOG_DEFAULTS.keys():
            unknown = sorted(e.keys() - _LOG_DEFAULTS.keys())
            raise TypeError(f"JobLogEntry has no field {unknown[0]!r}")
        row = {**_LOG_DEFAULTS, **e, "job_id": job.pk}
        value = row["value"]
        row["value"] = "" if value is None else str(value)[:2000]
        for a in ("column", "message", "level", "kind"):
            text = row[a]
            if text is not None and text.__class__ is not str:
                row[a] = str(text)  # a lazy translation, a str subclass: stored as text
        rows.append(row)
    if rows:
        inserter_for(JobLogEntry).insert(rows, now=timezone.now(), keys=False)
    return len(rows)


class _MovableFile(File):
    """A finished file the storage may take as it is: a storage on the local disk moves it
    (a rename on the same disk) instead of copying it once more; any other storage reads it."""

    def temporary_file_path(self) -> str:
        return self.name


def job_save_output(*, job: DataJob, path_or_file, filename: str) -> None:
    """Store a generated file as the job's output (through Django's storage API). A path is
    the caller's to give away: the file may be moved rather than copied."""
    if isinstance(path_or_file, str | bytes) or hasattr(path_or_file, "__fspath__"):
        with open(path_or_file, "rb") as fh:
            job.output_file.save(filename, _MovableFile(fh, name=str(path_or_file)), save=False)
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
    # Beats while ``work`` runs, however long one of its batches takes.
    HEARTBEAT.job_add(job_id=job.pk, attempt=job.attempt)
    try:
        summary = work(job, progress)
    except JobCancelled:
        _finish(
            job,
            Status.CANCELLED,
            attempt=_current_attempt(job),
            processed=job.processed,
            succeeded=job.succeeded,
            failed=job.failed,
            skipped=job.skipped,
        )
    except JobTakenOver:
        logger.warning("Job %s was taken over by another worker; this run stopped", job.pk)
    except Exception as exc:
        job_fail(job=job, exc=exc)
    else:
        if not job_complete(job=job, summary=summary):
            logger.warning("Job %s was taken over by another worker; result dropped", job.pk)
    finally:
        HEARTBEAT.job_remove(job_id=job.pk)


def job_run_here(
    job: DataJob, work: Callable[[DataJob, JobProgress], dict[str, Any] | None]
) -> DataJob:
    """Run a job in this process (the command line, tests) as the worker would, and return it
    as it ended."""
    job_run(job.pk, work)
    job.refresh_from_db()
    return job


def workers_forget(*, now=None) -> int:
    """Drop liveness records of workers gone for a day (each start is a new process)."""
    cutoff = (now or timezone.now()) - timedelta(days=1)
    gone = WorkerHeartbeat.objects.filter(seen_at__lt=cutoff)
    # Read first: most minutes there is nothing to delete, and a write would wait for an
    # all-or-nothing import holding SQLite's write lock.
    if not gone.exists():
        return 0
    deleted, _ = gone.delete()
    return deleted


def jobs_purge(*, older_than: timedelta | None = None, now=None) -> tuple[int, int]:
    """Delete finished jobs and abandoned drafts (with their files) older than the retention age.

    Returns (jobs, files). The rule is ``jobs_expired``'s.
    """
    old = jobs_expired(older_than=older_than, now=now)
    files = 0
    count = 0
    for job in old.iterator(chunk_size=500):
        deleted = job_delete(job=job)
        if deleted is None:
            continue
        files += deleted
        count += 1
    return count, files


def job_delete(*, job: DataJob) -> int | None:
    """Delete a job and the files no other job uses. Returns the files deleted, None if the job
    changed status meanwhile (and was kept)."""
    # Delete only if the status is still the one read: a draft started meanwhile is queued
    # now and keeps its uploaded file. Row first, so a kept job never loses its files.
    deleted, _ = DataJob.objects.filter(pk=job.pk, status=job.status).delete()
    if not deleted:
        return None
    files = 0
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
    return files


def _file_referenced(name: str) -> bool:
    return DataJob.objects.filter(Q(input_file=name) | Q(output_file=name)).exists()


def job_bump(*, job: DataJob, **counts: int) -> None:
    """Add to counters atomically (used when several tasks report on one job)."""
    DataJob.objects.filter(pk=job.pk).update(**{k: F(k) + v for k, v in counts.items()})
