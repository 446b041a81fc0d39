"""A real Huey consumer process runs jobs queued through the lifecycle services."""

import pytest

from jobs.models import DataJob
from jobs.services import job_create, job_queue
from jobs.tasks import worker_check_task

pytestmark = pytest.mark.consumer


def _queue(org, user, **params):
    job = job_create(
        organization=org,
        user=user,
        job_type=DataJob.Type.IMPORT,
        target="worker-check",
        params=params,
    )
    job_queue(job=job, task=worker_check_task)
    return job


def test_it_runs_a_job_to_completion_in_a_real_consumer(org, owner, huey_consumer, job_waiter):
    job = _queue(org, owner, steps=10, delay=0.02)
    job = job_waiter(job)
    assert job.status == DataJob.Status.COMPLETED, huey_consumer.log_path.read_text()
    assert job.percent == 100
    assert (job.total, job.processed, job.succeeded) == (10, 10, 10)
    assert job.task_id
    assert job.started_at and job.finished_at and job.summary == {"steps": 10}


def test_it_fails_a_job_with_a_safe_message_when_the_task_raises(
    org, owner, huey_consumer, job_waiter
):
    job = job_waiter(_queue(org, owner, steps=5, delay=0.01, crash_at=2))
    assert job.status == DataJob.Status.FAILED
    assert "unexpected error" in job.error_message
    assert "internal details" not in job.error_message
    assert job.processed == 1


def test_it_shows_the_message_of_a_user_facing_error(org, owner, huey_consumer, job_waiter):
    job = job_waiter(_queue(org, owner, steps=5, delay=0.01, fail_at=3))
    assert job.status == DataJob.Status.FAILED
    assert job.error_message == "The worker check was asked to fail at step 3."
