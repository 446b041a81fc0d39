"""Heartbeats, stalled-job detection and recovery, in this process (no consumer)."""

from __future__ import annotations

import datetime as dt
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from business.models import Contact
from jobs.heartbeat import HEARTBEAT
from jobs.models import DataJob, WorkerHeartbeat
from jobs.selectors import jobs_holding_slot, jobs_stalled, workers_state
from jobs.services import job_recover, job_run, jobs_recover_stalled
from jobs.tasks import recover_stalled_jobs_task, worker_check_task
from tests.wizard.test_engine import draft, media_in_tmp, run_import, write_file  # noqa: F401
from wizard.services import import_start

Status = DataJob.Status


@pytest.fixture
def short_stall(settings):
    settings.FERRY = {**settings.FERRY, "JOB_STALLED_AFTER_SECONDS": 90}


def stalled_job(make_job, org, user, **fields) -> DataJob:
    old = timezone.now() - timedelta(minutes=5)
    fields.setdefault("status", Status.RUNNING)
    fields.setdefault("attempt", 1)
    return make_job(org, user, started_at=old, heartbeat_at=old, **fields)


def test_it_defaults_to_detecting_a_dead_worker_within_two_minutes():
    from django.conf import settings

    # Stale after the stalled time, then found by the next run of the every-minute task.
    assert settings.FERRY["JOB_STALLED_AFTER_SECONDS"] + 60 <= 120
    assert (
        settings.FERRY["JOB_HEARTBEAT_SECONDS"] * 3 <= settings.FERRY["JOB_STALLED_AFTER_SECONDS"]
    )


def test_it_runs_the_stalled_jobs_task_every_minute():
    assert recover_stalled_jobs_task.task_class in HUEY._registry._periodic_tasks
    task = recover_stalled_jobs_task.task_class()
    for minute in (0, 1, 17, 59):
        assert task.validate_datetime(dt.datetime(2026, 1, 5, 10, minute))


def test_it_fails_a_stalled_all_or_nothing_job_with_nothing_written(
    org, owner, make_job, short_stall
):
    job = stalled_job(
        make_job, org, owner, on_stall=DataJob.OnStall.FAIL, processed=130_000, succeeded=130_000
    )
    recover_stalled_jobs_task.call_local()
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert (job.processed, job.succeeded, job.failed) == (0, 0, 0)
    assert job.error_message.endswith("Nothing of it was kept; start it again.")


def test_it_queues_a_stalled_resumable_job_again_with_its_committed_counts(
    org, owner, make_job, short_stall, django_capture_on_commit_callbacks
):
    job = stalled_job(
        make_job,
        org,
        owner,
        on_stall=DataJob.OnStall.RESUME,
        task_name="jobs.tasks.worker_check_task",
        processed=5_000,  # written by the dead worker after its last commit
        succeeded=5_000,
        checkpoint={"rows": 4_000, "job_counts": {"processed": 4_000, "succeeded": 3_990}},
    )
    HUEY.flush()
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_recover_stalled() == {"resumed": 1}
    job.refresh_from_db()
    assert job.status == Status.QUEUED
    assert (job.processed, job.succeeded) == (4_000, 3_990)
    assert job.checkpoint["rows"] == 4_000
    assert HUEY.pending_count() == 1
    HUEY.flush()


def test_it_fails_a_job_whose_worker_died_too_often(org, owner, make_job, short_stall, settings):
    settings.FERRY = {**settings.FERRY, "JOB_MAX_ATTEMPTS": 3}
    job = stalled_job(
        make_job,
        org,
        owner,
        attempt=3,
        on_stall=DataJob.OnStall.RESUME,
        task_name="jobs.tasks.worker_check_task",
        checkpoint={"rows": 10, "job_counts": {"processed": 10, "succeeded": 10}},
    )
    assert job_recover(job=job) == "failed"
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "3 times" in job.error_message
    assert "What it had committed is kept" in job.error_message
    assert job.succeeded == 10


def test_it_leaves_a_job_whose_worker_is_beating(org, owner, make_job, short_stall):
    job = make_job(org, owner, status=Status.RUNNING, attempt=1, heartbeat_at=timezone.now())
    assert jobs_recover_stalled() == {}
    job.refresh_from_db()
    assert job.status == Status.RUNNING


def test_it_does_not_count_stalled_jobs_against_the_concurrency_limit(
    org, owner, make_job, short_stall, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.FERRY = {**settings.FERRY, "MAX_CONCURRENT_IMPORTS": 1}
    settings.MEDIA_ROOT = tmp_path / "media"
    stuck = stalled_job(make_job, org, owner)
    assert not jobs_holding_slot(DataJob.objects.all()).filter(pk=stuck.pk).exists()
    path = write_file(tmp_path, [["Email"], ["a@x.com"]])
    HUEY.flush()
    with django_capture_on_commit_callbacks(execute=False):
        job = import_start(job=draft(org, owner, "contacts", path))
    assert job.status == Status.QUEUED


def test_it_reports_zero_succeeded_for_a_rolled_back_import(org, owner, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 10}
    rows = [["Email"], *[[f"p{i}@x.com"] for i in range(40)], ["broken"]]
    job = run_import(org, owner, "contacts", tmp_path, rows, mode="atomic")
    assert job.status == Status.FAILED
    assert job.summary["rolled_back"] is True
    assert (job.succeeded, job.failed) == (0, 1)
    assert not Contact.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_beats_while_one_long_step_of_a_job_runs(org, owner, make_job, settings):
    settings.FERRY = {**settings.FERRY, "JOB_HEARTBEAT_SECONDS": 1}
    job = make_job(org, owner, job_type=DataJob.Type.SYSTEM, status=Status.QUEUED)
    seen = []

    def work(running, progress):
        started = DataJob.objects.get(pk=running.pk).heartbeat_at
        time.sleep(2.6)  # one long batch: no progress written
        seen.append((started, DataJob.objects.get(pk=running.pk).heartbeat_at))
        return {}

    job_run(job.pk, work)
    ((started, later),) = seen
    assert later > started
    job.refresh_from_db()
    assert job.status == Status.COMPLETED


@pytest.mark.django_db(transaction=True)
def test_it_records_a_live_worker_and_forgets_a_silent_one(settings):
    settings.FERRY = {**settings.FERRY, "JOB_STALLED_AFTER_SECONDS": 90}
    assert not workers_state().any_alive
    try:
        HEARTBEAT.worker_register()
        state = workers_state()
        assert state.alive == 1 and state.any_alive
        WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(minutes=2))
        assert not workers_state().any_alive
        assert workers_state().last_seen is not None
        HEARTBEAT.beat()
        assert workers_state().any_alive
    finally:
        HEARTBEAT.worker_unregister()


def test_the_worker_check_task_is_run_again_by_name():
    from jobs.services import _requeue  # noqa: F401  (the name recorded by job_queue resolves)

    name = HUEY._registry.task_to_string(worker_check_task.task_class)
    assert HUEY._registry.string_to_task(name) is worker_check_task.task_class


@pytest.mark.django_db(transaction=True)
def test_it_keeps_a_job_alive_through_its_side_heartbeat_on_sqlite(org, owner, make_job):
    """An all-or-nothing import holds SQLite's write lock: its heartbeat goes to a file."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL takes heartbeats while a long transaction runs")
    job = stalled_job(make_job, org, owner)
    assert job.is_stalled
    HEARTBEAT.job_add(job_id=job.pk, attempt=job.attempt)
    try:
        assert not job.is_stalled
        assert not jobs_stalled(DataJob.objects.all()).exists()
        assert jobs_recover_stalled() == {}
    finally:
        HEARTBEAT.job_remove(job_id=job.pk)
    assert job.is_stalled
    assert jobs_stalled(DataJob.objects.all()).exists()
