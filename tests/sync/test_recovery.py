"""A sync job whose worker died: run again from the start by the sync's own task (it has no
input file to resume from), or failed cleanly; either way the connection's claim is released."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from business.models import Product
from jobs.models import DataJob
from jobs.services import jobs_recover_stalled
from sync.models import SyncConnection, SyncLink, SyncRun
from sync.services import sync_start, syncs_due_queue
from sync.tasks import sync_task

pytestmark = pytest.mark.django_db
Status = DataJob.Status


@pytest.fixture
def short_stall(settings):
    settings.FERRY = {**settings.FERRY, "JOB_STALLED_AFTER_SECONDS": 90}
    HUEY.flush()
    yield
    HUEY.flush()


def _stalled_sync(connection, user, capture, **fields) -> DataJob:
    """A sync job as a killed worker leaves it: running, silent, holding the connection."""
    with capture(execute=False):
        job = sync_start(connection=connection, user=user)
    old = timezone.now() - timedelta(minutes=5)
    fields = {
        "status": Status.RUNNING,
        "attempt": 1,
        "started_at": old,
        "heartbeat_at": old,
        **fields,
    }
    DataJob.objects.filter(pk=job.pk).update(**fields)
    SyncConnection.objects.filter(pk=connection.pk).update(running_job=job)
    SyncRun.objects.create(
        organization=connection.organization, connection=connection, job=job, started_at=old
    )
    job.refresh_from_db()
    return job


def test_it_runs_a_stalled_sync_again_with_its_own_task(
    org, owner, reels, short_stall, django_capture_on_commit_callbacks
):
    job = _stalled_sync(reels, owner, django_capture_on_commit_callbacks)
    assert job.on_stall == DataJob.OnStall.RERUN
    assert not job.input_file  # nothing a file import could resume from
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_recover_stalled() == {"rerun": 1}
    job.refresh_from_db()
    assert job.status == Status.QUEUED and job.task_name.endswith("sync_task")
    assert HUEY.pending_count() == 1
    # What the next worker does with it: the sync's task, which takes the claim over.
    sync_task.call_local(job.pk)
    job.refresh_from_db()
    assert job.status == Status.COMPLETED, job.error_message
    assert job.summary["imported"] == 10
    assert Product.objects.filter(organization=org).count() == 10
    assert SyncLink.objects.filter(connection=reels).count() == 10
    reels.refresh_from_db()
    assert reels.running_job_id is None
    dead, rerun = SyncRun.objects.filter(job=job).order_by("pk")
    assert dead.status == SyncRun.Status.FAILED and "run again" in dead.message
    assert rerun.status == SyncRun.Status.COMPLETED and rerun.imported == 10


def test_it_fails_a_sync_whose_worker_died_too_often_and_frees_the_connection(
    org, owner, reels, short_stall, settings, django_capture_on_commit_callbacks
):
    attempts = settings.FERRY["JOB_MAX_ATTEMPTS"]
    job = _stalled_sync(reels, owner, django_capture_on_commit_callbacks, attempt=attempts)
    assert jobs_recover_stalled() == {"failed": 1}
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert HUEY.pending_count() == 0
    # The next auto-sync tick releases the claim and ends the run with the job's message.
    syncs_due_queue()
    reels.refresh_from_db()
    assert reels.running_job_id is None
    run = SyncRun.objects.get(job=job)
    assert run.status == SyncRun.Status.FAILED
    assert run.message == job.error_message
    assert not Product.objects.filter(organization=org).exists()


def test_it_starts_a_sync_of_a_connection_whose_last_job_died(
    org, owner, reels, short_stall, django_capture_on_commit_callbacks
):
    job = _stalled_sync(reels, owner, django_capture_on_commit_callbacks, attempt=99)
    jobs_recover_stalled()
    with django_capture_on_commit_callbacks(execute=False):
        again = sync_start(connection=reels, user=owner)
    assert again.pk != job.pk and again.status == Status.QUEUED
    reels.refresh_from_db()
    assert reels.running_job_id is None  # claimed by the new job only once it runs
