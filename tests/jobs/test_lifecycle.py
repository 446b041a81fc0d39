"""Each lifecycle transition of a job, and the throttled progress writes."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs.errors import FerryError, JobCancelled
from jobs.models import DataJob
from jobs.services import (
    HEARTBEAT_INTERVAL,
    MAX_UNKNOWN_TOTAL_WRITES,
    JobProgress,
    job_cancel,
    job_complete,
    job_fail,
    job_mark_stalled_failed,
    job_queue,
    job_start,
)
from jobs.tasks import worker_check_task

Status = DataJob.Status


def test_it_creates_a_job_pending(org, owner, make_job):
    job = make_job(org, owner)
    assert job.status == Status.PENDING
    assert job.is_active and not job.is_finished


def test_it_queues_a_job_and_hands_it_to_the_worker_on_commit(
    org, owner, make_job, django_capture_on_commit_callbacks
):
    job = make_job(org, owner)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job_queue(job=job, task=worker_check_task)
    job.refresh_from_db()
    assert job.status == Status.QUEUED and job.queued_at is not None
    # Nothing reaches the queue before the transaction commits.
    assert len(callbacks) == 1
    assert job.task_id == ""


def test_it_starts_a_queued_job(org, owner, make_job):
    job = make_job(org, owner, status=Status.QUEUED)
    assert job_start(job=job) is True
    job.refresh_from_db()
    assert job.status == Status.RUNNING
    assert job.started_at is not None and job.heartbeat_at is not None


def test_it_refuses_to_start_a_job_twice(org, owner, make_job):
    job = make_job(org, owner, status=Status.QUEUED)
    assert job_start(job=job)
    assert job_start(job=DataJob.objects.get(pk=job.pk)) is False


def test_it_completes_a_running_job_with_its_summary(org, owner, make_job):
    job = make_job(org, owner, status=Status.QUEUED)
    job_start(job=job)
    progress = JobProgress(job)
    progress.set_total(3)
    progress.update(processed=3, succeeded=2, failed=1)
    job_complete(job=job, summary={"created": 2})
    job.refresh_from_db()
    assert job.status == Status.COMPLETED
    assert (job.processed, job.succeeded, job.failed) == (3, 2, 1)
    assert job.summary == {"created": 2}
    assert job.finished_at is not None and job.percent == 100


def test_it_fails_a_job_with_the_message_of_a_ferry_error(org, owner, make_job):
    job = make_job(org, owner, status=Status.RUNNING, started_at=timezone.now())
    job_fail(job=job, exc=FerryError("Row 3, column 'email': 'x' is not an e-mail address."))
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.error_message == "Row 3, column 'email': 'x' is not an e-mail address."


def test_it_hides_internal_details_when_a_job_fails_unexpectedly(org, owner, make_job):
    job = make_job(org, owner, status=Status.RUNNING, started_at=timezone.now())
    job_fail(job=job, exc=KeyError("secret_column_internal"))
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "secret_column_internal" not in job.error_message
    assert f"job {job.pk}" in job.error_message


def test_it_cancels_a_queued_job_at_once(org, owner, make_job):
    job = make_job(org, owner, status=Status.QUEUED)
    job_cancel(job=job)
    job.refresh_from_db()
    assert job.status == Status.CANCELLED and job.finished_at is not None


def test_it_refuses_to_start_a_job_after_cancel(org, owner, make_job):
    job = make_job(org, owner, status=Status.QUEUED)
    job_cancel(job=job)
    assert job_start(job=DataJob.objects.get(pk=job.pk)) is False
    job.refresh_from_db()
    assert job.status == Status.CANCELLED and job.started_at is None


def test_it_flags_a_running_job_for_cancellation_between_batches(org, owner, make_job):
    job = make_job(org, owner, status=Status.QUEUED)
    job_start(job=job)
    job_cancel(job=DataJob.objects.get(pk=job.pk))
    job.refresh_from_db()
    # Still running: the task notices the flag at its next check and stops cleanly.
    assert job.status == Status.RUNNING and job.cancel_requested
    with pytest.raises(JobCancelled):
        JobProgress(job).check_cancel(force=True)


def test_it_leaves_a_finished_job_alone_when_cancelled(org, owner, make_job):
    job = make_job(org, owner, status=Status.COMPLETED, finished_at=timezone.now())
    job_cancel(job=job)
    job.refresh_from_db()
    assert job.status == Status.COMPLETED and not job.cancel_requested


def test_it_writes_progress_at_most_about_a_hundred_times(
    org, owner, make_job, django_assert_max_num_queries
):
    job = make_job(org, owner, status=Status.QUEUED)
    job_start(job=job)
    progress = JobProgress(job)
    progress.set_total(10_000)
    with CaptureQueriesContext(connection) as queries:
        for n in range(1, 10_001):
            progress.update(processed=n, succeeded=n)
    writes = [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert len(writes) == progress.writes
    assert progress.writes <= 101
    with django_assert_max_num_queries(101):
        progress2 = JobProgress(job)
        for n in range(1, 10_001):
            progress2.update(processed=n)
    job.refresh_from_db()
    assert job.processed == 10_000


def test_it_bounds_progress_writes_when_the_total_is_unknown(org, owner, make_job):
    job = make_job(org, owner, status=Status.QUEUED)
    job_start(job=job)
    now = [0.0]
    progress = JobProgress(job, clock=lambda: now[0])
    for n in range(1, 50_001):
        now[0] += 0.01  # 500 seconds of work, reported 50,000 times
        progress.update(processed=n)
    # At most one write a second up to the cap, then only the heartbeat that keeps it "alive".
    heartbeats = 500 / HEARTBEAT_INTERVAL
    assert progress.writes <= MAX_UNKNOWN_TOTAL_WRITES + heartbeats + 1


def test_it_detects_a_stalled_job_and_marks_it_failed(org, owner, make_job, settings):
    settings.FERRY = {**settings.FERRY, "JOB_STALLED_AFTER_SECONDS": 60}
    long_ago = timezone.now() - timedelta(minutes=5)
    job = make_job(org, owner, status=Status.RUNNING, started_at=long_ago, heartbeat_at=long_ago)
    assert job.is_stalled
    assert job_mark_stalled_failed(job=job) is True
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "stopped responding" in job.error_message


def test_it_does_not_take_a_reporting_job_as_stalled(org, owner, make_job, settings):
    settings.FERRY = {**settings.FERRY, "JOB_STALLED_AFTER_SECONDS": 60}
    job = make_job(
        org,
        owner,
        status=Status.RUNNING,
        started_at=timezone.now() - timedelta(hours=2),
        heartbeat_at=timezone.now() - timedelta(seconds=10),
    )
    assert not job.is_stalled
    assert job_mark_stalled_failed(job=job) is False
    job.refresh_from_db()
    assert job.status == Status.RUNNING
