"""Who may do what, over the whole cast: the UI's permission codes and organization scoping.

Another organization's objects are 404; a resource (or PDF) without the permission is 403.
``other`` is the admin of another organization: everything of ``org`` is invisible to them,
while starting jobs works in their own organization.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from library.models import DataTemplate
from tests.api.conftest import make_job, make_token, token_client

pytestmark = pytest.mark.django_db

CAST = ("owner", "manager", "member", "viewer", "other_user")
CSV = b"Email,First name\nada@example.com,Ada\n"


def _job(org, owner, **extra):
    return make_job(org, owner, **extra)


# name → (how to call it, expected status per cast member)
MATRIX = {
    "list jobs": (
        lambda api, x: api.get("/api/v1/data-jobs/"),
        (200, 200, 200, 200, 200),
    ),
    "read a job": (
        lambda api, x: api.get(f"/api/v1/data-jobs/{x['export'].pk}/"),
        (200, 200, 200, 200, 404),
    ),
    "read a job's log": (
        lambda api, x: api.get(f"/api/v1/data-jobs/{x['export'].pk}/log/"),
        (200, 200, 200, 200, 404),
    ),
    "download an XLSX export": (
        lambda api, x: api.get(f"/api/v1/data-jobs/{x['export'].pk}/download/"),
        (200, 200, 200, 200, 404),
    ),
    "download a PDF export": (
        lambda api, x: api.get(f"/api/v1/data-jobs/{x['pdf'].pk}/download/"),
        (200, 200, 403, 403, 404),
    ),
    "download an import's failed rows": (
        lambda api, x: api.get(f"/api/v1/data-jobs/{x['import'].pk}/failed-rows/"),
        (200, 200, 200, 403, 404),
    ),
    "cancel the owner's job": (
        lambda api, x: api.post(f"/api/v1/data-jobs/{x['queued'].pk}/cancel/"),
        (200, 403, 403, 403, 404),
    ),
    "undo an import": (
        # The import wrote nothing, so the allowed ones get a 400 saying so.
        lambda api, x: api.post(f"/api/v1/data-jobs/{x['import'].pk}/undo/", {}, format="json"),
        (400, 400, 400, 403, 404),
    ),
    "export contacts as CSV": (
        lambda api, x: api.post("/api/v1/contacts/export/", {"format": "csv"}, format="json"),
        (202, 202, 202, 202, 202),
    ),
    "export contacts as PDF": (
        lambda api, x: api.post("/api/v1/contacts/export/", {"format": "pdf"}, format="json"),
        (202, 202, 403, 403, 202),
    ),
    "import contacts": (
        lambda api, x: api.post(
            "/api/v1/contacts/import/",
            {"file": SimpleUploadedFile("c.csv", CSV)},
            format="multipart",
        ),
        (202, 202, 202, 403, 202),
    ),
    "run the sales report as PDF": (
        lambda api, x: api.post("/api/v1/reports/sales/export/", {"format": "pdf"}, format="json"),
        (202, 202, 403, 403, 202),
    ),
    "run the audit log report": (
        lambda api, x: api.post(
            "/api/v1/reports/audit-log/export/", {"format": "csv"}, format="json"
        ),
        (202, 202, 403, 403, 202),
    ),
    "list resources": (
        lambda api, x: api.get("/api/v1/resources/"),
        (200, 200, 200, 200, 200),
    ),
    "describe a resource": (
        lambda api, x: api.get("/api/v1/resources/contacts/"),
        (200, 200, 200, 200, 200),
    ),
    "read a shared template": (
        lambda api, x: api.get(f"/api/v1/templates/{x['shared'].pk}/"),
        (200, 200, 200, 200, 404),
    ),
    "change a shared template": (
        lambda api, x: api.patch(
            f"/api/v1/templates/{x['shared'].pk}/", {"description": "x"}, format="json"
        ),
        (200, 403, 403, 403, 404),
    ),
    "delete a shared template": (
        lambda api, x: api.delete(f"/api/v1/templates/{x['shared'].pk}/"),
        (204, 403, 403, 403, 404),
    ),
    "read the owner's private template": (
        lambda api, x: api.get(f"/api/v1/templates/{x['private'].pk}/"),
        (200, 404, 404, 404, 404),
    ),
}


@pytest.fixture
def objects(org, owner):
    return {
        "export": _job(
            org,
            owner,
            status="completed",
            params={"permission": "can_export_contact"},
            output=("contacts.xlsx", b"PK\x03\x04"),
        ),
        "pdf": _job(
            org,
            owner,
            status="completed",
            format="pdf",
            params={"permission": "can_export_contact_pdf"},
            output=("contacts.pdf", b"%PDF-1.7"),
        ),
        "import": _job(
            org,
            owner,
            job_type="import",
            status="completed",
            params={"permission": "can_import_contact"},
            failed_rows=("failed.csv", b"Email,error\nx,bad\n"),
        ),
        "queued": _job(org, owner, status="queued"),
        "shared": DataTemplate.objects.create(
            organization=org, name="Shared", resource="contacts", is_shared=True
        ),
        "private": DataTemplate.objects.create(
            organization=org, name="Private", resource="contacts", created_by=owner
        ),
    }


@pytest.mark.parametrize("who", CAST)
@pytest.mark.parametrize("action", list(MATRIX))
def test_it_applies_the_permission_matrix(request, action, who, objects):
    user = request.getfixturevalue(who)
    api = token_client(make_token(user, user.memberships.first().organization))
    call, expected = MATRIX[action]
    response = call(api, objects)
    want = expected[CAST.index(who)]
    detail = (
        response.json()
        if response.status_code != 204 and "json" in response.get("Content-Type", "")
        else ""
    )
    assert response.status_code == want, (action, who, detail)
    if want >= 400:
        assert set(response.json()) == {"error", "details"}


def test_it_never_lists_another_organizations_jobs(other_user, other_org, owner, org, objects):
    api = token_client(make_token(other_user, other_org))
    assert api.get("/api/v1/data-jobs/").json()["count"] == 0
    assert api.get("/api/v1/templates/").json()["count"] == 0


def test_it_scopes_session_requests_like_the_ui(owner_client, other_client, objects):
    job = objects["export"]
    assert owner_client.get(f"/api/v1/data-jobs/{job.pk}/").status_code == 200
    assert other_client.get(f"/api/v1/data-jobs/{job.pk}/").status_code == 404
