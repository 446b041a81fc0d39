"""The fixed failed-rows file goes back into the same import (issue 11, case 9): one summary,
one undo covering both passes, the row log brought up to date; a file that is not this
import's failed rows is refused."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from business.models import Contact
from jobs.models import JobLogEntry
from tests.wizard.test_engine import draft, media_in_tmp  # noqa: F401
from wizard.rerun import FailedRowsRefused, failed_rows_import
from wizard.services import failed_rows_file, import_run_now, import_undo

pytestmark = pytest.mark.django_db


def first_pass(org, owner, tmp_path, rows: int = 3000):
    path = tmp_path / "people.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Email", "First name", "Birthday"])
        for i in range(1, rows + 1):
            w.writerow([f"p{i}@x.com" if i % 10 else f"p{i}-at-x", f"P{i}", "1980-01-02"])
    job = draft(
        org,
        owner,
        "contacts",
        path,
        mapping={"Email": "email", "First name": "first_name", "Birthday": "birth_date"},
    )
    return import_run_now(job=job)


def fixed_file(job, *, fix_all: bool = True) -> bytes:
    with default_storage.open(failed_rows_file(job=job)["name"]) as fh:
        rows = list(csv.reader(io.StringIO(fh.read().decode("utf-8-sig"))))
    assert rows[0][0] == "Ferry row"
    for n, row in enumerate(rows[1:]):
        if fix_all or n % 2 == 0:
            row[1] = row[1].replace("-at-x", "@x.com")
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def test_it_imports_the_fixed_rows_into_the_same_job_with_one_undo(org, owner, tmp_path):
    job = first_pass(org, owner, tmp_path)
    assert (job.summary["created"], job.summary["failed"]) == (2700, 300)
    result = failed_rows_import(
        job=job,
        file=io.BytesIO(fixed_file(job, fix_all=False)),
        filename="people-failed-rows.csv",
        user=owner,
    )
    assert (result["rows"], result["created"], result["failed"]) == (300, 150, 150)
    job.refresh_from_db()
    assert (job.succeeded, job.failed) == (2850, 150)
    assert job.summary["created"] == 2850 and job.summary["failed"] == 150
    assert Contact.objects.filter(organization=org).count() == 2850
    errors = JobLogEntry.objects.filter(job=job, level="error")
    assert errors.count() == 150
    resolved = JobLogEntry.objects.filter(job=job, level="info", message__startswith="Resolved")
    assert resolved.count() == 150
    # The failed-rows file now lists only the rows still failing; a second pass fixes them.
    result = failed_rows_import(
        job=job, file=io.BytesIO(fixed_file(job)), filename="again.csv", user=owner
    )
    job.refresh_from_db()
    assert (job.succeeded, job.failed, result["created"]) == (3000, 0, 150)
    assert failed_rows_file(job=job) is None and len(job.summary["reruns"]) == 2
    import_undo(job=job, user=owner)
    assert Contact.objects.filter(organization=org).count() == 0


def test_it_refuses_rows_that_are_not_this_imports_failed_rows(org, owner, tmp_path):
    job = first_pass(org, owner, tmp_path, rows=30)
    text = "Ferry row,Email,First name,Birthday,error\n2,p1@x.com,P1,1980-01-02,\n"
    with pytest.raises(FailedRowsRefused, match="Row 2 .* is not a failed row"):
        failed_rows_import(job=job, file=io.BytesIO(text.encode()), filename="x.csv", user=owner)
    with pytest.raises(FailedRowsRefused, match="no 'Ferry row' column"):
        failed_rows_import(
            job=job, file=io.BytesIO(b"Email,First name\na@x.com,A\n"), filename="x.csv", user=owner
        )
    job.refresh_from_db()
    assert job.failed == 3 and Contact.objects.filter(organization=org).count() == 27


def test_it_takes_the_fixed_file_on_the_results_page(
    org, owner, owner_client, other_client, tmp_path
):
    job = first_pass(org, owner, tmp_path, rows=50)
    upload = SimpleUploadedFile("fixed.csv", fixed_file(job), content_type="text/csv")
    url = reverse("wizard:failed_rows_upload", args=[job.pk])
    assert other_client.post(url, {"file": upload}).status_code == 404
    upload.seek(0)
    response = owner_client.post(url, {"file": upload}, follow=True)
    page = response.content.decode()
    assert "5 fixed rows re-imported: 5 created, 0 updated." in page
    job.refresh_from_db()
    assert (job.succeeded, job.failed) == (50, 0)


def test_it_takes_the_fixed_file_through_the_api(org, owner, other_user, other_org, tmp_path):
    from api.tokens import token_create
    from tests.api.conftest import token_client

    job = first_pass(org, owner, tmp_path, rows=40)
    api = token_client(token_create(user=owner, organization=org, name="t")[1])
    other = token_client(token_create(user=other_user, organization=other_org, name="t")[1])
    url = f"/api/v1/data-jobs/{job.pk}/failed-rows/"
    bad = api.post(url, {"file": io.BytesIO(b"Email\nx@y.com\n")}, format="multipart")
    assert bad.status_code == 400 and "Ferry row" in bad.json()["error"]
    upload = SimpleUploadedFile("fixed.csv", fixed_file(job), content_type="text/csv")
    assert other.post(url, {"file": upload}, format="multipart").status_code == 404
    upload.seek(0)
    response = api.post(url, {"file": upload}, format="multipart")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["rerun"]["created"] == 4 and body["rerun"]["failed"] == 0
    job.refresh_from_db()
    assert (job.succeeded, job.failed) == (40, 0)
    # The download still answers GET.
    assert api.get(url).status_code == 404  # nothing failed any more: no file
