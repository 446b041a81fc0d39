"""GET /api/v1/data-jobs/…: list, detail, log, files, cancel — scoped and permission-checked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from jobs.models import DataJob, JobLogEntry
from jobs.services import job_log
from tests.api.conftest import make_job

pytestmark = pytest.mark.django_db

JOBS = "/api/v1/data-jobs/"


def test_it_lists_the_organizations_jobs_newest_first(owner_api, owner, member, org, other_org):
    first = make_job(org, owner, target="contacts")
    second = make_job(org, member, target="products", job_type=DataJob.Type.IMPORT)
    make_job(other_org, None, target="contacts")
    body = owner_api.get(JOBS).json()
    assert body["count"] == 2
    assert [j["job_id"] for j in body["results"]] == [second.pk, first.pk]
    job = body["results"][0]
    assert job["url"] == f"http://testserver{JOBS}{second.pk}/"
    assert job["type"] == "import" and job["resource"] == "products"
    assert job["user"] == "member"


def test_it_filters_jobs_by_type_status_resource_and_date(owner_api, owner, org):
    old = make_job(org, owner, target="contacts", status=DataJob.Status.COMPLETED)
    DataJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    imp = make_job(org, owner, target="products", job_type=DataJob.Type.IMPORT)
    failed = make_job(org, owner, target="contacts", status=DataJob.Status.FAILED)

    def ids(query):
        response = owner_api.get(JOBS + query)
        assert response.status_code == 200, response.json()
        return {j["job_id"] for j in response.json()["results"]}

    assert ids("?type=import") == {imp.pk}
    assert ids("?status=failed") == {failed.pk}
    assert ids("?resource=contacts") == {old.pk, failed.pk}
    since = (timezone.now() - dt.timedelta(days=2)).date().isoformat()
    assert ids(f"?created_after={since}") == {imp.pk, failed.pk}
    assert ids(f"?created_before={since}") == {old.pk}


def test_it_refuses_an_invalid_filter_value_with_details(owner_api):
    response = owner_api.get(JOBS + "?status=exploded&created_after=yesterday")
    assert response.status_code == 400
    body = response.json()
    assert set(body["details"]) == {"status", "created_after"}


def test_it_paginates_jobs(owner_api, owner, org):
    for _ in range(5):
        make_job(org, owner)
    body = owner_api.get(JOBS + "?page_size=2&page=2").json()
    assert body["count"] == 5 and len(body["results"]) == 2
    assert body["next"] and body["previous"]
    assert owner_api.get(JOBS + "?page=99").status_code == 404


def test_it_shows_a_job_with_progress_counts_timings_and_links(owner_api, owner, org):
    now = timezone.now()
    job = make_job(
        org,
        owner,
        job_type=DataJob.Type.IMPORT,
        status=DataJob.Status.RUNNING,
        total=200,
        processed=50,
        succeeded=45,
        failed=5,
        started_at=now - dt.timedelta(seconds=10),
        heartbeat_at=now,
        input=("contacts.csv", b"email\na@example.com\n"),
        failed_rows=("contacts-failed-rows.csv", b"email,error\nbad,not an email\n"),
    )
    body = owner_api.get(f"{JOBS}{job.pk}/").json()
    assert body["progress"] == 25
    assert body["counts"] == {
        "total": 200,
        "processed": 50,
        "succeeded": 45,
        "failed": 5,
        "skipped": 0,
    }
    assert body["status"] == "running" and body["duration_seconds"] >= 10
    base = f"http://testserver{JOBS}{job.pk}/"
    assert body["links"]["input"] == base + "input/"
    assert body["links"]["failed_rows"] == base + "failed-rows/"
    assert body["links"]["download"] is None
    assert body["links"]["undo"] == base + "undo/"
    assert "files" not in body["summary"]  # storage paths stay private
    kinds = {f["kind"]: f for f in body["files"]}
    assert set(kinds) == {"input", "failed-rows"}
    assert kinds["failed-rows"]["filename"] == "contacts-failed-rows.csv"


def test_it_answers_404_for_another_organizations_job_everywhere(other_api, owner, org):
    job = make_job(
        org, owner, output=("out.csv", b"a\n1\n"), input=("in.csv", b"a\n"), status="queued"
    )
    for suffix in ("", "log/", "download/", "input/", "failed-rows/", "files/output/"):
        response = other_api.get(f"{JOBS}{job.pk}/{suffix}")
        assert response.status_code == 404, suffix
        assert response.json()["error"]
    assert other_api.post(f"{JOBS}{job.pk}/cancel/").status_code == 404
    assert other_api.post(f"{JOBS}{job.pk}/undo/", {}, format="json").status_code == 404
    job.refresh_from_db()
    assert job.status == "queued" and not job.cancel_requested


def test_it_pages_the_row_log_and_filters_by_level(owner_api, owner, org):
    job = make_job(org, owner, job_type=DataJob.Type.IMPORT)
    job_log(
        job=job,
        entries=[
            {
                "row_number": n,
                "column": "Email",
                "value": f"x{n}",
                "message": "bad",
                "level": "error",
            }
            for n in range(2, 7)
        ]
        + [
            {
                "row_number": 9,
                "column": "Phone",
                "value": "",
                "message": "blank",
                "level": "warning",
            }
        ],
    )
    body = owner_api.get(f"{JOBS}{job.pk}/log/?page_size=4").json()
    assert body["count"] == 6 and len(body["results"]) == 4
    assert body["results"][0] == {
        "id": JobLogEntry.objects.filter(job=job).order_by("row_number").first().pk,
        "row_number": 2,
        "column": "Email",
        "value": "x2",
        "message": "bad",
        "level": "error",
    }
    warnings = owner_api.get(f"{JOBS}{job.pk}/log/?level=warning").json()
    assert [e["row_number"] for e in warnings["results"]] == [9]
    assert owner_api.get(f"{JOBS}{job.pk}/log/?level=nope").status_code == 400


def test_it_downloads_the_output_input_and_failed_rows(owner_api, owner, org):
    job = make_job(
        org,
        owner,
        job_type=DataJob.Type.IMPORT,
        params={"permission": "can_import_contact"},
        input=("people.csv", b"email\nx\n"),
        output=("result.csv", b"ok\n"),
        failed_rows=("people-failed.csv", b"email,error\nx,bad\n"),
    )
    for suffix, name, content in (
        ("download/", "result.csv", b"ok\n"),
        ("input/", "people.csv", b"email\nx\n"),
        ("failed-rows/", "people-failed.csv", b"email,error\nx,bad\n"),
        ("files/failed-rows/", "people-failed.csv", b"email,error\nx,bad\n"),
    ):
        response = owner_api.get(f"{JOBS}{job.pk}/{suffix}")
        assert response.status_code == 200, suffix
        assert name in response["Content-Disposition"]
        assert b"".join(response.streaming_content) == content


def test_it_answers_404_json_for_a_file_the_job_does_not_have(owner_api, owner, org):
    job = make_job(org, owner, params={"permission": "can_export_contact"})
    for suffix in ("download/", "input/", "failed-rows/", "files/nothing/"):
        response = owner_api.get(f"{JOBS}{job.pk}/{suffix}")
        assert response.status_code == 404
        assert "has no" in response.json()["error"]


def test_it_refuses_files_without_the_jobs_permission(viewer_api, owner, org):
    job = make_job(
        org,
        owner,
        params={"permission": "can_export_contact_pdf"},
        output=("contacts.pdf", b"%PDF-1.7"),
    )
    # The viewer may see the job exists, but not a PDF they could not have made.
    assert viewer_api.get(f"{JOBS}{job.pk}/").status_code == 200
    response = viewer_api.get(f"{JOBS}{job.pk}/download/")
    assert response.status_code == 403
    assert "permission" in response.json()["error"]


def test_it_cancels_a_queued_job(owner_api, owner, org):
    job = make_job(org, owner, status=DataJob.Status.QUEUED)
    response = owner_api.post(f"{JOBS}{job.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    job.refresh_from_db()
    assert job.status == "cancelled" and job.cancel_requested


def test_it_asks_a_running_job_to_stop(member_api, member, org):
    job = make_job(org, member, status=DataJob.Status.RUNNING)
    body = member_api.post(f"{JOBS}{job.pk}/cancel/").json()
    assert body["status"] == "running" and body["cancel_requested"] is True


def test_it_lets_only_the_starter_or_an_admin_cancel(
    member_api, viewer_api, owner_api, member, org
):
    job = make_job(org, member, status=DataJob.Status.QUEUED)
    assert viewer_api.post(f"{JOBS}{job.pk}/cancel/").status_code == 403
    job.refresh_from_db()
    assert job.status == "queued"
    assert owner_api.post(f"{JOBS}{job.pk}/cancel/").status_code == 200


def test_it_leaves_a_finished_job_alone_on_cancel(owner_api, owner, org):
    job = make_job(org, owner, status=DataJob.Status.COMPLETED)
    assert owner_api.post(f"{JOBS}{job.pk}/cancel/").json()["status"] == "completed"


def test_it_refuses_to_undo_an_export(owner_api, owner, org):
    job = make_job(org, owner, status=DataJob.Status.COMPLETED)
    response = owner_api.post(f"{JOBS}{job.pk}/undo/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == {"job": ["Only an import can be undone."]}


def test_it_refuses_an_undo_without_the_import_permission(viewer_api, owner, org):
    job = make_job(org, owner, job_type=DataJob.Type.IMPORT, status=DataJob.Status.COMPLETED)
    assert viewer_api.post(f"{JOBS}{job.pk}/undo/", {}, format="json").status_code == 403


def test_it_answers_json_404_for_anything_unknown_under_the_api(owner_api):
    for response in (
        owner_api.get(f"{JOBS}abc/"),
        owner_api.post(f"{JOBS}abc/cancel/"),
        owner_api.get("/api/v2/everything/"),
    ):
        assert response.status_code == 404
        assert response.json() == {"error": "Not found.", "details": {}}
