import pytest
from django.core.files.base import ContentFile

from jobs.models import DataJob
from jobs.services import job_create


@pytest.fixture
def make_job():
    def make(org, user, *, job_type=DataJob.Type.IMPORT, target="contacts", **fields):
        params = fields.pop("params", {})
        job = job_create(
            organization=org, user=user, job_type=job_type, target=target, params=params
        )
        if fields:
            for name, value in fields.items():
                setattr(job, name, value)
            job.save()
        return job

    return make


@pytest.fixture
def job_with_files(org, owner, make_job, settings, tmp_path):
    """A finished import with an uploaded file, an output and a failed-rows file."""
    settings.MEDIA_ROOT = tmp_path / "media"
    job = make_job(
        org,
        owner,
        status=DataJob.Status.COMPLETED,
        params={"permission": "can_import_contact"},
    )
    job.input_file.save("upload.csv", ContentFile(b"email\na@example.com\n"), save=False)
    job.input_filename = "Contacts März.csv"
    job.output_file.save("result.xlsx", ContentFile(b"PK-fake-xlsx"), save=False)
    job.output_filename = "contacts-result.xlsx"
    storage = job.output_file.storage
    failed_name = storage.save(
        f"jobs/{org.pk}/{job.pk}/failed.csv", ContentFile(b"row,error\n2,bad\n")
    )
    job.summary = {
        "created": 1,
        "files": {"failed-rows": {"name": failed_name, "filename": "contacts-failed-rows.csv"}},
    }
    job.save()
    return job
