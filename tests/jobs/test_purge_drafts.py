"""Retention of import drafts: a pending job nobody started goes with its upload and preview rows."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from api.models import IdempotencyKey
from jobs import services
from jobs.models import DataJob, JobLogEntry
from jobs.services import job_log, jobs_purge
from wizard.models import ImportChange, ImportRow

Status = DataJob.Status
OLD = timedelta(days=45)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _age(job, delta=OLD):
    DataJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - delta)
    job.refresh_from_db()
    return job


@pytest.fixture
def make_draft(org, owner, make_job, media):
    """An import draft as the wizard leaves it: pending, an uploaded file, previewed rows."""

    def make(*, age=OLD, status=Status.PENDING):
        draft = make_job(org, owner, status=status, params={"permission": "can_import_contact"})
        draft.input_file.save("upload.csv", ContentFile(b"email\nnot-an-email\n"), save=False)
        draft.input_filename = "contacts.csv"
        draft.save()
        ImportRow.objects.create(
            job=draft,
            row_number=2,
            status=ImportRow.Status.INVALID,
            values={"email": "not-an-email"},
            errors={"email": ["Not an e-mail address."]},
        )
        job_log(
            job=draft,
            entries=[dict(row_number=2, column="email", value="x", message="Not an e-mail.")],
        )
        return _age(draft, age)

    return make


def test_it_purges_an_old_draft_with_its_upload_rows_and_log(make_draft, org, owner):
    draft = make_draft()
    ImportChange.objects.create(
        job=draft, resource="contacts", object_id=1, action=ImportChange.Action.CREATED
    )
    key = IdempotencyKey.objects.create(
        user=owner,
        organization=org,
        endpoint="POST /api/v1/contacts/import/",
        key="k-1",
        request_hash="0" * 64,
        job=draft,
        response_status=202,
    )
    storage, name = draft.input_file.storage, draft.input_file.name
    assert storage.exists(name)

    assert jobs_purge(older_than=timedelta(days=30)) == (1, 1)

    assert not DataJob.objects.filter(pk=draft.pk).exists()
    assert not storage.exists(name)
    assert not ImportRow.objects.filter(job_id=draft.pk).exists()
    assert not ImportChange.objects.filter(job_id=draft.pk).exists()
    assert not JobLogEntry.objects.filter(job_id=draft.pk).exists()
    # The idempotency record outlives the job; it only forgets which job it was.
    key.refresh_from_db()
    assert key.job_id is None


def test_it_keeps_recent_drafts_and_old_queued_or_running_jobs(make_draft):
    recent = make_draft(age=timedelta(days=2))
    queued = make_draft(status=Status.QUEUED)
    running = make_draft(status=Status.RUNNING)
    expired = make_draft()

    assert jobs_purge(older_than=timedelta(days=30)) == (1, 1)

    assert not expired.input_file.storage.exists(expired.input_file.name)
    kept = set(DataJob.objects.values_list("pk", flat=True))
    assert kept == {recent.pk, queued.pk, running.pk}
    for job in (recent, queued, running):
        assert job.input_file.storage.exists(job.input_file.name)
        assert ImportRow.objects.filter(job=job).exists()


def test_it_counts_drafts_in_a_dry_run_and_by_the_configured_retention(make_draft, settings):
    draft = make_draft()
    out = StringIO()
    call_command("purge_jobs", "--days", "30", "--dry-run", stdout=out)
    assert "1 jobs" in out.getvalue() and "1 files" in out.getvalue()
    assert DataJob.objects.filter(pk=draft.pk).exists()

    settings.FERRY = {**settings.FERRY, "JOB_RETENTION_DAYS": 60}
    assert jobs_purge() == (0, 0)
    settings.FERRY = {**settings.FERRY, "JOB_RETENTION_DAYS": 30}
    assert jobs_purge() == (1, 1)


def test_it_keeps_an_upload_a_preview_shares_with_a_draft_still_in_use(make_draft, make_job):
    # The wizard's preview job reads the draft's file under the same storage name.
    draft = make_draft(status=Status.RUNNING)
    preview = make_job(draft.organization, draft.user, status=Status.COMPLETED)
    preview.input_file.name = draft.input_file.name
    preview.save()
    _age(preview)
    storage, name = draft.input_file.storage, draft.input_file.name

    assert jobs_purge(older_than=timedelta(days=30)) == (1, 0)
    assert not DataJob.objects.filter(pk=preview.pk).exists()
    assert storage.exists(name)

    # Once the draft is finished and old too, the file goes with it.
    DataJob.objects.filter(pk=draft.pk).update(status=Status.COMPLETED)
    assert jobs_purge(older_than=timedelta(days=30)) == (1, 1)
    assert not storage.exists(name)


def test_it_spares_a_draft_started_while_the_purge_ran(make_draft, monkeypatch):
    draft = make_draft()
    storage, name = draft.input_file.storage, draft.input_file.name
    real = services.jobs_expired

    class Snapshot:
        """The expired jobs as read, before the person pressed Start."""

        def __init__(self, jobs):
            self.jobs = jobs

        def iterator(self, chunk_size=None):
            return iter(self.jobs)

    def expired_then_started(**kwargs):
        jobs = list(real(**kwargs))
        DataJob.objects.filter(pk=draft.pk).update(status=Status.QUEUED)
        return Snapshot(jobs)

    monkeypatch.setattr(services, "jobs_expired", expired_then_started)

    assert jobs_purge(older_than=timedelta(days=30)) == (0, 0)
    draft.refresh_from_db()
    assert draft.status == Status.QUEUED
    assert storage.exists(name)
    assert ImportRow.objects.filter(job=draft).exists()
