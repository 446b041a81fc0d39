"""Cancelling a running job through the page, with a real Huey consumer doing the work."""

import time

import pytest
from django.urls import reverse

from jobs.models import DataJob
from jobs.tasks import worker_check_queue

pytestmark = pytest.mark.consumer


def test_it_stops_a_running_job_midway_when_cancelled(
    org, owner, owner_client, huey_consumer, job_waiter
):
    job = worker_check_queue(organization=org, user=owner, steps=200, delay=0.05)
    # Wait until the worker has really started and made some progress.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status == DataJob.Status.RUNNING and job.processed >= 5:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the job never started:\n" + huey_consumer.log_path.read_text())

    response = owner_client.post(reverse("jobs:cancel", args=[job.pk]))
    assert response.status_code == 302

    job = job_waiter(job, timeout=30)
    assert job.status == DataJob.Status.CANCELLED, huey_consumer.log_path.read_text()
    assert job.finished_at is not None
    assert 5 <= job.processed < job.total == 200
    status = owner_client.get(reverse("jobs:status", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert status.status_code == 286


def test_it_runs_the_worker_check_queued_from_the_dashboard(
    org, owner_client, huey_consumer, job_waiter
):
    owner_client.post(reverse("jobs:worker_check"))
    job = job_waiter(DataJob.objects.get(organization=org, target="worker-check"))
    assert job.status == DataJob.Status.COMPLETED, huey_consumer.log_path.read_text()
    assert job.percent == 100
