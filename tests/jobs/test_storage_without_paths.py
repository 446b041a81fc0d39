"""Workers on other machines see files only through Django's storage API, never a local path.

The media storage here is Django's InMemoryStorage without ``path()`` (as for object storage,
e.g. S3 through django-storages), and MEDIA_ROOT is a folder that must stay empty: any code that
assumed a local file would fail. An import (upload, run, failed-rows file, undo), an
export and a ready-made report run end to end through the same service functions the Huey
tasks call, and their files are read back through the storage and the download view.
"""

from __future__ import annotations

import csv
import io
import os

import pytest
from django.core.files.storage import InMemoryStorage, default_storage
from django.urls import reverse
from django.utils._os import safe_join
from openpyxl import load_workbook

from business.models import Contact
from jobs.services import JobProgress
from reports.exporters import export_create, export_run
from tests.factories import AccountFactory, ContactFactory
from wizard.services import import_configure, import_create, import_run_now, import_undo

CSV = (
    "Email,First name,Company\n"
    "ada@example.com,Ada,Acme\n"
    "grace@example.com,Grace,Acme\n"
    "not-an-email,Nobody,Acme\n"
)


class PathlessStorage(InMemoryStorage):
    """In memory, and no local path: what an object storage gives a worker."""

    def path(self, name):
        raise NotImplementedError("This storage has no local paths.")

    def _relative_path(self, name):
        # InMemoryStorage names its nodes through path(); the same name, without it.
        return os.path.relpath(safe_join(self.location, name), self.location)


@pytest.fixture
def memory_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.PathlessStorage"},
    }
    # django.test.signals resets default_storage when STORAGES changes (and back afterwards).


def read(field) -> bytes:
    with field.storage.open(field.name, "rb") as fh:
        return fh.read()


def test_it_imports_exports_and_reports_with_a_storage_that_has_no_local_paths(
    memory_media, settings, org, owner, owner_client
):
    AccountFactory(organization=org, name="Acme")
    upload = io.BytesIO(CSV.encode())
    upload.size = len(CSV)
    job = import_create(
        organization=org, user=owner, resource="contacts", file=upload, filename="people.csv"
    )
    assert isinstance(job.input_file.storage, PathlessStorage)
    with pytest.raises(NotImplementedError):
        job.input_file.path  # noqa: B018  the point: there is no local file behind it

    import_configure(job=job, mode="skip-invalid")
    job = import_run_now(job=job)
    assert job.status == "completed", job.error_message
    assert (job.summary["created"], job.summary["failed"]) == (2, 1)
    assert set(Contact.objects.filter(organization=org).values_list("email", flat=True)) == {
        "ada@example.com",
        "grace@example.com",
    }
    failed = job.summary["files"]["failed-rows"]["name"]
    assert default_storage.exists(failed)
    with default_storage.open(failed, "rb") as fh:
        assert "not-an-email" in fh.read().decode("utf-8-sig")

    import_undo(job=job, user=owner)
    assert not Contact.objects.filter(organization=org).exists()

    ContactFactory(organization=org, email="kept@example.com", first_name="Kept")
    export = export_create(organization=org, user=owner, exporter="contacts", format="csv")
    export_run(job=export, progress=JobProgress(export))
    export.refresh_from_db()
    assert isinstance(export.output_file.storage, PathlessStorage)
    rows = list(csv.reader(io.StringIO(read(export.output_file).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["kept@example.com"]
    response = owner_client.get(reverse("jobs:download", args=[export.pk, "output"]))
    assert response.status_code == 200
    assert b"kept@example.com" in b"".join(response.streaming_content)

    report = export_create(organization=org, user=owner, exporter="sales", format="xlsx")
    export_run(job=report, progress=JobProgress(report))
    report.refresh_from_db()
    workbook = load_workbook(io.BytesIO(read(report.output_file)))
    assert workbook.sheetnames
    assert not settings.MEDIA_ROOT.exists()
