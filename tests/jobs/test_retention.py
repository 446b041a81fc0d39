"""Retention: old finished jobs and their files go; recent and active jobs stay."""

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from jobs.models import DataJob, JobLogEntry
from jobs.services import job_log
from jobs.tasks import purge_jobs_task

Status = DataJob.Status


@pytest.fixture
def jobs_of_all_ages(org, owner, make_job, job_with_files):
    old = timezone.now() - timedelta(days=45)
    DataJob.objects.filter(pk=job_with_files.pk).update(created_at=old)
    job_log(job=job_with_files, entries=[dict(row_number=2, message="bad", column="email")])
    return {
        "old_with_files": job_with_files,
        "old_failed": make_job(org, owner, status=Status.FAILED, created_at=old),
        "old_but_running": make_job(org, owner, status=Status.RUNNING, created_at=old),
        "old_but_queued": make_job(org, owner, status=Status.QUEUED, created_at=old),
        "recent": make_job(org, owner, status=Status.COMPLETED),
    }


def _file_names(job):
    names = [job.input_file.name, job.output_file.name]
    names += [spec["name"] for spec in job.summary["files"].values()]
    return names


def test_it_purges_old_finished_jobs_with_their_files(jobs_of_all_ages):
    with_files = jobs_of_all_ages["old_with_files"]
    storage = with_files.output_file.storage
    names = _file_names(with_files)
    assert all(storage.exists(n) for n in names)
    out = StringIO()
    call_command("purge_jobs", "--days", "30", stdout=out)
    assert "Deleted 2 jobs" in out.getvalue() and "3 files" in out.getvalue()
    assert not any(storage.exists(n) for n in names)
    left = set(DataJob.objects.values_list("pk", flat=True))
    assert left == {jobs_of_all_ages[k].pk for k in ("old_but_running", "old_but_queued", "recent")}
    assert not JobLogEntry.objects.filter(job_id=with_files.pk).exists()


def test_it_only_reports_on_a_dry_run(jobs_of_all_ages):
    storage = jobs_of_all_ages["old_with_files"].output_file.storage
    out = StringIO()
    call_command("purge_jobs", "--days", "30", "--dry-run", stdout=out)
    assert "2 jobs" in out.getvalue() and "3 files" in out.getvalue()
    assert DataJob.objects.count() == 5
    assert all(storage.exists(n) for n in _file_names(jobs_of_all_ages["old_with_files"]))


def test_it_keeps_jobs_younger_than_the_given_days(jobs_of_all_ages):
    call_command("purge_jobs", "--days", "60", stdout=StringIO())
    assert DataJob.objects.count() == 5


def test_it_uses_the_configured_retention_by_default(jobs_of_all_ages, settings):
    settings.FERRY = {**settings.FERRY, "JOB_RETENTION_DAYS": 90}
    # The periodic task reads the setting when it runs.
    purge_jobs_task.call_local()
    assert DataJob.objects.count() == 5
    settings.FERRY = {**settings.FERRY, "JOB_RETENTION_DAYS": 10}
    purge_jobs_task.call_local()
    assert DataJob.objects.count() == 3


def test_it_schedules_the_purge_once_a_day():
    day = datetime(2026, 3, 1)
    runs = [
        minute
        for minute in range(24 * 60)
        if purge_jobs_task.task_class().validate_datetime(day + timedelta(minutes=minute))
    ]
    assert len(runs) == 1
