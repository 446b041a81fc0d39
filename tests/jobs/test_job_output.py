"""A job's generated file is stored through the storage API; on the local disk it is moved
there (a rename), not copied once more."""

from __future__ import annotations

import os

import pytest

from jobs.models import DataJob
from jobs.services import job_save_output

pytestmark = pytest.mark.django_db


def test_a_finished_file_is_moved_into_the_media_folder(org, owner, make_job, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    job = make_job(org, owner, job_type=DataJob.Type.EXPORT)
    made = tmp_path / "work" / "contacts.csv"
    made.parent.mkdir()
    made.write_bytes(b"Email\r\nann@example.com\r\n" * 1000)
    inode = made.stat().st_ino
    job_save_output(job=job, path_or_file=made, filename="contacts.csv")
    job.refresh_from_db()
    stored = tmp_path / "media" / job.output_file.name
    assert stored.read_bytes() == b"Email\r\nann@example.com\r\n" * 1000
    assert stored.stat().st_ino == inode, "renamed, not copied"
    assert not made.exists()
    assert oct(stored.stat().st_mode & 0o777) == oct(settings.FILE_UPLOAD_PERMISSIONS or 0o644)
    assert job.output_filename == "contacts.csv"


def test_an_open_file_is_copied_and_left_to_its_owner(org, owner, make_job, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    job = make_job(org, owner, job_type=DataJob.Type.EXPORT)
    made = tmp_path / "report.pdf"
    made.write_bytes(b"%PDF-1.7 ...")
    with open(made, "rb") as fh:
        job_save_output(job=job, path_or_file=fh, filename="report.pdf")
    job.refresh_from_db()
    assert (tmp_path / "media" / job.output_file.name).read_bytes() == b"%PDF-1.7 ..."
    assert made.exists() and os.path.getsize(made) == 12
