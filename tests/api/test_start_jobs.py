"""POST …/export/, …/import/ and reports/…/export/: validated, permission-checked, queued.

These run in a test transaction that never commits, so the tasks are never handed to a worker;
the consumer tests (test_flow.py) run them for real.
"""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from accounts.models import Membership
from jobs.models import DataJob
from library.models import DataTemplate
from tests.api.conftest import make_job

pytestmark = pytest.mark.django_db

CSV = b"Email,First name,Last name,Company\nada@example.com,Ada,Lovelace,Analytical\n"


def upload(content: bytes = CSV, name: str = "people.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/csv")


def stored_files() -> list[str]:
    found = []

    def walk(path):
        dirs, files = default_storage.listdir(path)
        found.extend(f"{path}/{f}" if path else f for f in files)
        for d in dirs:
            walk(f"{path}/{d}" if path else d)

    if default_storage.exists(""):
        walk("")
    return found


# --- exports -------------------------------------------------------------------------------


def test_it_queues_an_export_and_answers_202_with_the_job(owner_api, owner, org):
    response = owner_api.post(
        "/api/v1/contacts/export/",
        {
            "format": "XLSX",
            "filters": {"lifecycle_stage": ["customer"]},
            "columns": ["email", "first_name"],
        },
        format="json",
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    job = DataJob.objects.get(pk=body["job_id"])
    assert body["url"] == f"http://testserver/api/v1/data-jobs/{job.pk}/"
    assert response["Location"] == body["url"]
    assert body["status"] == "queued" and body["progress"] == 0
    assert (job.job_type, job.target, job.format, job.user) == ("export", "contacts", "xlsx", owner)
    assert job.params["columns"] == ["email", "first_name"]
    assert job.params["filters"] == {"lifecycle_stage": ["customer"]}
    assert job.params["permission"] == "can_export_contact"


def test_it_names_an_invalid_filter(owner_api):
    response = owner_api.post(
        "/api/v1/contacts/export/",
        {"format": "csv", "filters": {"lifecycle_stage": ["astronaut"]}},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert "lifecycle_stage" in body["error"] and "astronaut" in body["error"]
    assert list(body["details"]) == ["filters.lifecycle_stage"]
    response = owner_api.post(
        "/api/v1/contacts/export/", {"format": "csv", "filters": {"shoe_size": 9}}, format="json"
    )
    assert response.status_code == 400
    assert "Unknown filter 'shoe_size'" in response.json()["error"]
    assert not DataJob.objects.exists()


def test_it_refuses_an_unknown_column_or_format(owner_api):
    response = owner_api.post(
        "/api/v1/contacts/export/", {"format": "csv", "columns": ["email", "iq"]}, format="json"
    )
    assert response.status_code == 400
    assert "Unknown column 'iq'" in response.json()["details"]["columns"][0]
    response = owner_api.post("/api/v1/contacts/export/", {"format": "docx"}, format="json")
    assert response.status_code == 400
    assert "'docx' is not a format" in response.json()["details"]["format"][0]
    response = owner_api.post("/api/v1/contacts/export/", {}, format="json")
    assert response.json()["details"] == {"format": ["This field is required."]}
    assert not DataJob.objects.exists()


def test_it_answers_404_for_an_unknown_resource(owner_api):
    response = owner_api.post("/api/v1/unicorns/export/", {"format": "csv"}, format="json")
    assert response.status_code == 404
    assert "Unknown resource 'unicorns'" in response.json()["error"]
    response = owner_api.post("/api/v1/unicorns/import/", {"file": upload()}, format="multipart")
    assert response.status_code == 404


def test_it_refuses_pdf_without_the_pdf_permission(member_api, manager_api):
    response = member_api.post("/api/v1/contacts/export/", {"format": "PDF"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"] == "You may not export Contacts as PDF."
    assert (
        manager_api.post("/api/v1/contacts/export/", {"format": "pdf"}, format="json").status_code
        == 202
    )


def test_it_refuses_an_export_without_the_export_permission(viewer_api, viewer, org):
    Membership.objects.filter(user=viewer).update(revoked_permissions=["can_export_product"])
    response = viewer_api.post("/api/v1/products/export/", {"format": "csv"}, format="json")
    assert response.status_code == 403
    assert (
        viewer_api.post("/api/v1/contacts/export/", {"format": "csv"}, format="json").status_code
        == 202
    )


def test_it_starts_an_export_from_a_template(owner_api, owner, org, other_org):
    template = DataTemplate.objects.create(
        organization=org,
        name="Customers",
        resource="contacts",
        template_type=DataTemplate.Type.EXPORT,
        mapping={"columns": ["email", "last_name"], "filters": {}, "format": "csv"},
    )
    response = owner_api.post(
        "/api/v1/contacts/export/", {"format": "csv", "template": template.pk}, format="json"
    )
    assert response.status_code == 202
    job = DataJob.objects.get()
    assert job.params["template"] == template.pk
    assert job.params["columns"] == ["email", "last_name"]
    foreign = DataTemplate.objects.create(
        organization=other_org, name="X", resource="contacts", template_type="export"
    )
    response = owner_api.post(
        "/api/v1/contacts/export/", {"format": "csv", "template": foreign.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["details"] == {"template": [f"No template with id {foreign.pk}."]}


# --- imports -------------------------------------------------------------------------------


def test_it_queues_an_import_of_an_uploaded_csv(member_api, member, org):
    response = member_api.post(
        "/api/v1/contacts/import/",
        {
            "file": upload(),
            "mapping": '{"Email": "email", "Company": "account"}',
            "on_duplicate": "update",
            "mode": "atomic",
            "dry_run": "true",
        },
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    job = DataJob.objects.get(pk=body["job_id"])
    assert (job.job_type, job.target, job.status, job.format) == (
        "import",
        "contacts",
        "queued",
        "csv",
    )
    assert job.params["mapping"] == {"Email": "email", "Company": "account"}
    assert (job.params["on_duplicate"], job.params["mode"], job.params["dry_run"]) == (
        "update",
        "atomic",
        True,
    )
    assert job.input_file.read() == CSV
    assert body["links"]["input"].endswith(f"/api/v1/data-jobs/{job.pk}/input/")


def test_it_auto_maps_when_no_mapping_is_given(member_api):
    response = member_api.post("/api/v1/contacts/import/", {"file": upload()}, format="multipart")
    assert response.status_code == 202
    mapping = DataJob.objects.get().params["mapping"]
    assert mapping["Email"] == "email" and mapping["First name"] == "first_name"


def test_it_passes_read_options_to_the_reader(member_api):
    content = b"Export of 2024\nemail;first_name\nada@example.com;Ada\n"
    response = member_api.post(
        "/api/v1/contacts/import/",
        {"file": upload(content), "delimiter": ";", "header_row": 2, "encoding": "utf-8"},
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    job = DataJob.objects.get()
    assert job.params["read"]["delimiter"] == ";"
    assert job.params["file_info"]["headers"] == ["email", "first_name"]


def test_it_refuses_an_unsupported_file_with_the_reason(member_api):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    response = member_api.post(
        "/api/v1/contacts/import/", {"file": upload(png, "photo.csv")}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["error"]
    assert not DataJob.objects.exists()
    assert stored_files() == []


def test_it_refuses_an_empty_file(member_api):
    response = member_api.post(
        "/api/v1/contacts/import/", {"file": upload(b"")}, format="multipart"
    )
    assert response.status_code == 400
    assert "empty" in response.json()["error"].lower() or "file" in response.json()["details"]


def test_it_answers_413_for_an_oversize_upload(member_api, settings):
    settings.FERRY = {**settings.FERRY, "MAX_UPLOAD_BYTES": 50}
    response = member_api.post("/api/v1/contacts/import/", {"file": upload()}, format="multipart")
    assert response.status_code == 413
    assert "upload limit" in response.json()["error"]
    assert not DataJob.objects.exists()
    assert stored_files() == []


def test_it_refuses_a_mapping_that_names_a_missing_column_and_leaves_nothing(member_api):
    response = member_api.post(
        "/api/v1/contacts/import/",
        {"file": upload(), "mapping": '{"Mail": "email"}'},
        format="multipart",
    )
    assert response.status_code == 400
    assert "The file has no column 'Mail'" in response.json()["error"]
    assert not DataJob.objects.exists()
    assert stored_files() == []


def test_it_refuses_an_import_without_a_required_field(member_api):
    response = member_api.post(
        "/api/v1/contacts/import/",
        {"file": upload(b"First name\nAda\n")},
        format="multipart",
    )
    assert response.status_code == 400
    assert "Email" in response.json()["error"]
    assert not DataJob.objects.exists()


def test_it_refuses_malformed_import_fields(member_api):
    response = member_api.post(
        "/api/v1/contacts/import/",
        {"file": upload(), "mapping": "{nope", "on_duplicate": "merge", "header_row": 0},
        format="multipart",
    )
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"mapping", "on_duplicate", "header_row"}
    response = member_api.post("/api/v1/contacts/import/", {}, format="multipart")
    assert response.json()["details"] == {"file": ["No file was submitted."]}


def test_it_refuses_an_import_without_permission_or_into_the_audit_trail(viewer_api, owner_api):
    response = viewer_api.post("/api/v1/contacts/import/", {"file": upload()}, format="multipart")
    assert response.status_code == 403
    assert "can_import_contact" in response.json()["error"]
    response = owner_api.post(
        "/api/v1/audit-events/import/", {"file": upload()}, format="multipart"
    )
    assert response.status_code == 403
    assert not DataJob.objects.exists()


def test_it_answers_429_when_too_many_imports_run(member_api, owner, org, settings):
    settings.FERRY = {**settings.FERRY, "MAX_CONCURRENT_IMPORTS": 1}
    make_job(org, owner, job_type="import", status="running")
    response = member_api.post("/api/v1/contacts/import/", {"file": upload()}, format="multipart")
    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert "imports queued or running" in response.json()["error"]
    assert DataJob.objects.count() == 1
    assert stored_files() == []


def test_it_uses_an_import_template(member_api, member, org):
    template = DataTemplate.objects.create(
        organization=org,
        created_by=member,
        name="CRM",
        resource="contacts",
        mapping={"Email": "email", "Last name": "last_name"},
        on_duplicate="update",
    )
    response = member_api.post(
        "/api/v1/contacts/import/", {"file": upload(), "template": template.pk}, format="multipart"
    )
    assert response.status_code == 202
    job = DataJob.objects.get()
    assert job.params["template_id"] == template.pk
    assert job.params["on_duplicate"] == "update"
    response = member_api.post(
        "/api/v1/products/import/", {"file": upload(), "template": template.pk}, format="multipart"
    )
    assert response.status_code == 400
    assert "template" in response.json()["details"]


# --- reports -------------------------------------------------------------------------------


def test_it_lists_the_reports_the_caller_may_run(owner_api, member_api):
    reports = {r["identifier"]: r for r in owner_api.get("/api/v1/reports/").json()}
    assert set(reports) == {"sales", "customer-aging", "inventory-valuation", "audit-log"}
    sales = reports["sales"]
    assert "pdf" in sales["formats"]
    assert {p["name"] for p in sales["params"]} >= {"date_from", "date_to", "warehouse"}
    assert sales["url"] == "http://testserver/api/v1/reports/sales/export/"
    member_reports = {r["identifier"]: r for r in member_api.get("/api/v1/reports/").json()}
    assert "audit-log" not in member_reports
    assert "pdf" not in member_reports["sales"]["formats"]


def test_it_queues_a_report(manager_api, manager):
    response = manager_api.post(
        "/api/v1/reports/sales/export/",
        {"format": "PDF", "date_from": "2024-01-01", "params": {"date_to": "2024-12-31"}},
        format="json",
    )
    assert response.status_code == 202, response.json()
    job = DataJob.objects.get(pk=response.json()["job_id"])
    assert (job.job_type, job.target, job.format) == ("report", "sales", "pdf")
    assert job.params["report_params"] == {"date_from": "2024-01-01", "date_to": "2024-12-31"}


def test_it_gives_per_field_errors_for_report_parameters(manager_api):
    response = manager_api.post(
        "/api/v1/reports/sales/export/",
        {"format": "csv", "date_from": "2024-12-31", "date_to": "2024-01-01", "colour": "red"},
        format="json",
    )
    assert response.status_code == 400
    assert "colour" in response.json()["details"]


def test_it_answers_404_for_an_unknown_report_and_403_without_permission(member_api):
    response = member_api.post(
        "/api/v1/reports/horoscope/export/", {"format": "csv"}, format="json"
    )
    assert response.status_code == 404
    assert "Unknown report 'horoscope'" in response.json()["error"]
    response = member_api.post("/api/v1/reports/sales/export/", {"format": "pdf"}, format="json")
    assert response.status_code == 403
    response = member_api.post(
        "/api/v1/reports/audit-log/export/", {"format": "csv"}, format="json"
    )
    assert response.status_code == 403
    assert not DataJob.objects.exists()


def test_it_refuses_an_oversize_upload_before_reading_it(member_api, settings):
    # Content-Length alone decides: the body is not parsed (nor spooled to disk).
    settings.FERRY = {**settings.FERRY, "MAX_UPLOAD_BYTES": 1024}
    big = b"Email\n" + b"someone@example.com\n" * 5000
    response = member_api.post(
        "/api/v1/contacts/import/", {"file": upload(big)}, format="multipart"
    )
    assert response.status_code == 413
    assert response.json()["error"] == (
        "The file is larger than the 1 KB upload limit. Split it into smaller files."
    )
    assert not DataJob.objects.exists()
