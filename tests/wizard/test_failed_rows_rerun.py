"""The fixed failed-rows file goes back into the same import (issue 11, case 9): one summary,
one undo covering both passes, the row log brought up to date; a file that is not this
import's failed rows is refused at once. The request stores and checks the file; a real Huey
consumer imports its rows (a pass job of its own) while the results page shows its progress."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from business.models import Contact
from conftest import wait_for_job as _wait_for_job
from jobs.models import DataJob, JobLogEntry
from jobs.services import job_run
from tests.wizard.test_engine import draft, media_in_tmp  # noqa: F401
from wizard.rerun import FailedRowsRefused, failed_rows_passes, failed_rows_run, failed_rows_start
from wizard.services import failed_rows_file, import_run_now, import_undo

pytestmark = pytest.mark.django_db


def wait_for_job(job):
    # A loaded machine can take a while to start the consumer: more room than the default.
    return _wait_for_job(job, timeout=180)


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


def start(job, content: bytes, filename: str = "fixed.csv", user=None) -> DataJob:
    return failed_rows_start(
        job=job, file=io.BytesIO(content), filename=filename, user=user or job.user
    )


def test_it_imports_the_fixed_rows_into_the_same_job_with_one_undo(
    org, owner, tmp_path, huey_consumer
):
    job = first_pass(org, owner, tmp_path)
    assert (job.summary["created"], job.summary["failed"]) == (2700, 300)
    run = start(job, fixed_file(job, fix_all=False), "people-failed-rows.csv")
    # The request only stored and checked the file: the rows are the worker's to import.
    assert run.status == DataJob.Status.QUEUED and run.on_stall == DataJob.OnStall.RERUN
    assert default_storage.exists(run.input_file.name)
    run = wait_for_job(run)
    assert run.status == DataJob.Status.COMPLETED, run.error_message
    result = run.summary
    assert (result["rows"], result["created"], result["failed"]) == (300, 150, 150)
    assert (run.total, run.processed, run.succeeded, run.failed) == (300, 300, 150, 150)
    job.refresh_from_db()
    assert (job.succeeded, job.failed) == (2850, 150)
    assert job.summary["created"] == 2850 and job.summary["failed"] == 150
    assert Contact.objects.filter(organization=org).count() == 2850
    errors = JobLogEntry.objects.filter(job=job, level="error")
    assert errors.count() == 150
    resolved = JobLogEntry.objects.filter(job=job, level="info", message__startswith="Resolved")
    assert resolved.count() == 150
    assert not JobLogEntry.objects.filter(job=run).exists()  # the import's row log, not the pass's
    # The failed-rows file now lists only the rows still failing; a second pass fixes them.
    again = wait_for_job(start(job, fixed_file(job), "again.csv"))
    job.refresh_from_db()
    assert (job.succeeded, job.failed, again.summary["created"]) == (3000, 0, 150)
    assert failed_rows_file(job=job) is None and len(job.summary["reruns"]) == 2
    assert [r["job"] for r in job.summary["reruns"]] == [run.pk, again.pk]
    import_undo(job=job, user=owner)
    assert Contact.objects.filter(organization=org).count() == 0


def test_it_refuses_rows_that_are_not_this_imports_failed_rows_at_once(org, owner, tmp_path):
    job = first_pass(org, owner, tmp_path, rows=30)
    text = "Ferry row,Email,First name,Birthday,error\n2,p1@x.com,P1,1980-01-02,\n"
    with pytest.raises(FailedRowsRefused, match="Row 2 .* is not a failed row"):
        start(job, text.encode())
    with pytest.raises(FailedRowsRefused, match="no 'Ferry row' column"):
        start(job, b"Email,First name\na@x.com,A\n")
    # Nothing was queued, and the refused files were not kept.
    assert not failed_rows_passes(job=job).exists()
    _, stored = default_storage.listdir(f"jobs/{org.pk}")
    assert not any("fixed" in name for name in stored)
    job.refresh_from_db()
    assert job.failed == 3 and Contact.objects.filter(organization=org).count() == 27


def test_it_takes_one_pass_at_a_time_and_shows_it_on_its_way(org, owner, owner_client, tmp_path):
    job = first_pass(org, owner, tmp_path, rows=30)
    run = start(job, fixed_file(job))  # queued; no worker runs in this test
    with pytest.raises(FailedRowsRefused, match="already being imported"):
        start(job, fixed_file(job))
    assert failed_rows_passes(job=job).count() == 1
    results = reverse("wizard:results", args=[job.pk])
    page = owner_client.get(results).content.decode()
    # Its progress, polled; no second upload and no undo meanwhile.
    assert 'id="failed-rows-progress"' in page and "every 1s" in page
    assert "Waiting for a worker" in page and reverse("jobs:detail", args=[run.pk]) in page
    assert 'name="file"' not in page and reverse("wizard:undo", args=[job.pk]) not in page
    DataJob.objects.filter(pk=run.pk).update(status="running", processed=2, total=3)
    poll = owner_client.get(
        results, headers={"HX-Request": "true", "HX-Target": "failed-rows-progress"}
    )
    assert poll.status_code == 200 and "2 of 3 rows" in poll.content.decode()
    # The pass is a job on the jobs pages like any other, leading to the import's results.
    assert "(fixed failed rows)" in owner_client.get(reverse("jobs:dashboard")).content.decode()
    detail = owner_client.get(reverse("jobs:detail", args=[run.pk]))
    assert detail.status_code == 200 and results in detail.content.decode()


def test_it_does_not_run_a_pass_twice_when_its_worker_died_after_committing(
    org, owner, tmp_path, django_capture_on_commit_callbacks
):
    job = first_pass(org, owner, tmp_path, rows=30)
    with django_capture_on_commit_callbacks(execute=False):
        run = start(job, fixed_file(job))
    job_run(run.pk, lambda j, progress: failed_rows_run(job=j, progress=progress))
    run.refresh_from_db()
    assert run.status == DataJob.Status.COMPLETED and run.summary["created"] == 3
    # As the stalled-jobs task does for a pass whose worker died before saying it was done.
    DataJob.objects.filter(pk=run.pk).update(status=DataJob.Status.QUEUED)
    job_run(run.pk, lambda j, progress: failed_rows_run(job=j, progress=progress))
    run.refresh_from_db()
    job.refresh_from_db()
    assert run.status == DataJob.Status.COMPLETED and run.summary["created"] == 3
    assert (job.succeeded, job.failed, len(job.summary["reruns"])) == (30, 0, 1)
    assert Contact.objects.filter(organization=org).count() == 30


def test_it_shows_the_pass_on_the_results_page_then_its_counts(
    org, owner, owner_client, other_client, tmp_path, huey_consumer
):
    job = first_pass(org, owner, tmp_path, rows=50)
    upload = SimpleUploadedFile("fixed.csv", fixed_file(job), content_type="text/csv")
    url = reverse("wizard:failed_rows_upload", args=[job.pk])
    results = reverse("wizard:results", args=[job.pk])
    assert other_client.post(url, {"file": upload}).status_code == 404
    upload.seek(0)
    response = owner_client.post(url, {"file": upload})
    assert response.status_code == 302 and response["Location"] == results
    run = failed_rows_passes(job=job).get()
    page = owner_client.get(results).content.decode()
    if DataJob.objects.get(pk=run.pk).is_active:
        # Its progress, polled; no second upload or undo meanwhile.
        assert 'id="failed-rows-progress"' in page and "every 1s" in page
        assert 'name="file"' not in page and "Undo this import" not in page
    wait_for_job(run)
    poll = owner_client.get(
        results, headers={"HX-Request": "true", "HX-Target": "failed-rows-progress"}
    )
    assert poll.status_code == 286 and poll["HX-Redirect"] == results
    page = owner_client.get(results).content.decode()
    assert "fixed.csv: 5 fixed rows re-imported: 5 created, 0 updated." in page
    assert 'id="failed-rows-progress"' not in page
    job.refresh_from_db()
    assert (job.succeeded, job.failed) == (50, 0)
    # The pass's own page sends people to the import's results.
    assert owner_client.get(reverse("wizard:results", args=[run.pk]))["Location"] == results
    assert other_client.get(reverse("wizard:results", args=[run.pk])).status_code == 404


def test_it_refuses_a_bad_file_on_the_results_page_with_its_reason(
    org, owner, owner_client, tmp_path
):
    job = first_pass(org, owner, tmp_path, rows=30)
    upload = SimpleUploadedFile("fixed.csv", b"Email\nx@y.com\n", content_type="text/csv")
    url = reverse("wizard:failed_rows_upload", args=[job.pk])
    page = owner_client.post(url, {"file": upload}, follow=True).content.decode()
    assert "no &#x27;Ferry row&#x27; column" in page
    assert not failed_rows_passes(job=job).exists()


def test_it_takes_the_fixed_file_through_the_api(
    org, owner, other_user, other_org, tmp_path, huey_consumer
):
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
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["job_id"] != job.pk
    run = wait_for_job(DataJob.objects.get(pk=body["job_id"]))
    assert run.status == "completed", run.error_message
    polled = api.get(f"/api/v1/data-jobs/{run.pk}/").json()
    assert polled["status"] == "completed"
    job.refresh_from_db()
    assert (job.succeeded, job.failed) == (40, 0)
    assert job.summary["reruns"][-1]["created"] == 4
    # The download still answers GET.
    assert api.get(url).status_code == 404  # nothing failed any more: no file


def test_it_refuses_undo_while_fixed_rows_are_on_their_way(org, owner, tmp_path):
    from wizard.services.draft import ImportStateError

    job = first_pass(org, owner, tmp_path, rows=30)
    run = start(job, fixed_file(job))  # queued; no worker runs in this test
    with pytest.raises(ImportStateError, match="Fixed rows are being imported"):
        import_undo(job=job, user=owner)
    assert Contact.objects.filter(organization=org).count() == 27  # nothing taken back
    DataJob.objects.filter(pk=run.pk).update(status="completed")
    import_undo(job=job, user=owner)
    assert not Contact.objects.filter(organization=org).exists()
