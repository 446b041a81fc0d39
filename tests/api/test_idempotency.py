"""Idempotency-Key: a retried POST returns the first job instead of starting another."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from api.models import IdempotencyKey
from api.services import idempotency_purge
from jobs.models import DataJob

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/contacts/export/"
CSV = b"Email,First name\nada@example.com,Ada\n"


def post_export(api, key, body=None):
    return api.post(EXPORT, body or {"format": "csv"}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def post_import(api, key, content=CSV):
    return api.post(
        "/api/v1/contacts/import/",
        {"file": SimpleUploadedFile("people.csv", content), "mode": "atomic"},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_it_replays_the_same_job_for_a_retried_request(owner_api):
    first = post_export(owner_api, "retry-1")
    second = post_export(owner_api, "retry-1")
    assert first.status_code == second.status_code == 202
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert DataJob.objects.count() == 1
    assert IdempotencyKey.objects.get().job_id == first.json()["job_id"]


def test_it_refuses_the_same_key_with_a_different_body(owner_api):
    post_export(owner_api, "k")
    response = post_export(owner_api, "k", {"format": "xlsx"})
    assert response.status_code == 422
    assert "different request" in response.json()["error"]
    assert DataJob.objects.count() == 1


def test_it_starts_a_job_per_request_without_a_key(owner_api):
    owner_api.post(EXPORT, {"format": "csv"}, format="json")
    owner_api.post(EXPORT, {"format": "csv"}, format="json")
    assert DataJob.objects.count() == 2


def test_it_scopes_keys_per_user_and_per_endpoint(owner_api, manager_api):
    a = post_export(owner_api, "shared-key").json()["job_id"]
    b = post_export(manager_api, "shared-key").json()["job_id"]
    c = owner_api.post(
        "/api/v1/products/export/",
        {"format": "csv"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="shared-key",
    ).json()["job_id"]
    assert len({a, b, c}) == 3


def test_it_forgets_a_key_after_24_hours(owner_api):
    first = post_export(owner_api, "daily").json()["job_id"]
    IdempotencyKey.objects.update(
        created_at=IdempotencyKey.objects.get().created_at - timedelta(hours=25)
    )
    second = post_export(owner_api, "daily").json()["job_id"]
    assert first != second
    assert IdempotencyKey.objects.count() == 1


def test_it_purges_expired_keys(owner_api):
    post_export(owner_api, "old")
    post_export(owner_api, "new")
    IdempotencyKey.objects.filter(key="old").update(
        created_at=IdempotencyKey.objects.get(key="old").created_at - timedelta(days=2)
    )
    assert idempotency_purge() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_it_does_not_store_a_failed_request(owner_api):
    assert post_export(owner_api, "fix-and-retry", {"format": "docx"}).status_code == 400
    assert post_export(owner_api, "fix-and-retry", {"format": "csv"}).status_code == 202


def test_it_replays_an_import_of_the_same_file_and_refuses_another_file(member_api):
    first = post_import(member_api, "upload-1")
    again = post_import(member_api, "upload-1")
    assert first.status_code == again.status_code == 202
    assert again.json()["job_id"] == first.json()["job_id"]
    assert DataJob.objects.count() == 1
    other = post_import(member_api, "upload-1", CSV + b"bob@example.com,Bob\n")
    assert other.status_code == 422
    assert DataJob.objects.count() == 1


def test_it_replays_a_report(manager_api):
    body = {"format": "csv", "date_from": "2024-01-01"}
    first = manager_api.post(
        "/api/v1/reports/sales/export/", body, format="json", HTTP_IDEMPOTENCY_KEY="r"
    )
    second = manager_api.post(
        "/api/v1/reports/sales/export/", body, format="json", HTTP_IDEMPOTENCY_KEY="r"
    )
    assert first.json()["job_id"] == second.json()["job_id"]


def test_it_refuses_an_overlong_key(owner_api):
    response = post_export(owner_api, "x" * 256)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]


def test_it_replays_the_winner_when_two_requests_race(owner, org, monkeypatch):
    """Request B commits its key after A looked (and found none): A rolls back and replays B."""
    from api import services
    from api.services import job_start_idempotent

    lookup = {"user": owner, "organization": org, "endpoint": "POST export contacts", "key": "k"}
    real = services._stored_key
    calls = []

    def racing_lookup(query):
        calls.append(query)
        if len(calls) == 1:
            # B, running in parallel, stores its answer between A's lookup and A's insert.
            IdempotencyKey.objects.create(
                **lookup, request_hash="same", response_status=202, response_body={"job_id": 41}
            )
            return None
        return real(query)

    monkeypatch.setattr(services, "_stored_key", racing_lookup)

    def start():
        job = DataJob.objects.create(organization=org, job_type="export", target="contacts")
        return 202, {"job_id": job.pk}, job

    result = job_start_idempotent(**lookup, fingerprint="same", start=start)
    assert result.replayed and result.body == {"job_id": 41}
    # A's job was rolled back with its failed insert: only one job was ever started (B's).
    assert not DataJob.objects.exists()
