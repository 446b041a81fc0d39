"""The export builder: services, pages, permissions, organization isolation and templates."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from accounts.models import Membership
from business.filters import InvalidFilter
from business.models import AuditEvent
from business.resources import registry, resource_get
from jobs.errors import FerryError
from jobs.models import DataJob
from jobs.services import JobProgress
from library.models import DataTemplate
from reports.exporters import NullProgress, export_create, export_render, export_run, exporter_get
from reports.exports.selectors import export_queryset
from reports.exports.services import export_template_save
from tests.factories import AccountFactory, ContactFactory


@pytest.fixture
def contacts(org, other_org):
    acme = AccountFactory(organization=org, name="Acme")
    rows = [
        ContactFactory(
            organization=org,
            email=f"c{i}@example.com",
            first_name=f"First{i}",
            account=acme if i % 2 == 0 else None,
            lifecycle_stage="customer" if i < 3 else "lead",
            birth_date=dt.date(1990, 1, 1 + i),
        )
        for i in range(6)
    ]
    ContactFactory(organization=other_org, email="secret@rival.example", lifecycle_stage="customer")
    return rows


def run_sync(job: DataJob) -> DataJob:
    """The task body, called in-process (the consumer tests run it through Huey)."""
    job.refresh_from_db()
    summary = export_run(job=job, progress=JobProgress(job))
    job.refresh_from_db()
    return job, summary


def read_output(job: DataJob) -> bytes:
    with job.output_file.open("rb") as fh:
        return fh.read()


# --- services --------------------------------------------------------------------------------
def test_it_counts_and_exports_only_the_filtered_rows_of_the_organization(org, owner, contacts):
    assert (
        export_queryset(resource=resource_get("contacts"), organization=org, filters={}).count()
        == 6
    )
    assert (
        export_queryset(
            resource=resource_get("contacts"),
            organization=org,
            filters={"lifecycle_stage": ["customer"]},
        ).count()
        == 3
    )
    job = export_create(
        organization=org,
        user=owner,
        exporter="contacts",
        format="CSV",
        params={"filters": {"lifecycle_stage": "customer"}, "columns": ["email", "account"]},
    )
    assert job.format == "csv" and job.params["permission"] == "can_export_contact"
    job, summary = run_sync(job)
    rows = list(csv.reader(io.StringIO(read_output(job).decode("utf-8"))))
    assert rows[0] == ["Email", "Account"]
    assert sorted(rows[1:]) == [
        ["c0@example.com", "Acme"],
        ["c1@example.com", ""],
        ["c2@example.com", "Acme"],
    ]
    assert summary["rows"] == 3
    assert job.output_filename.startswith("contacts-") and job.output_filename.endswith(".csv")


def test_it_uses_the_default_columns_when_none_are_chosen(org, owner, contacts):
    job = export_create(organization=org, user=owner, exporter="contacts", format="json")
    job, _ = run_sync(job)
    data = json.loads(read_output(job))
    assert len(data) == 6
    assert "notes" not in data[0] and "legacy_id" not in data[0]
    assert data[0]["birth_date"] == "1990-01-01"
    assert "secret@rival.example" not in read_output(job).decode()


def test_it_names_an_unknown_format_column_or_filter(org, owner):
    with pytest.raises(FerryError, match="'docx'"):
        export_create(organization=org, user=owner, exporter="contacts", format="docx")
    with pytest.raises(FerryError, match="'shoe_size'"):
        export_create(
            organization=org,
            user=owner,
            exporter="contacts",
            format="csv",
            params={"columns": ["email", "shoe_size"]},
        )
    with pytest.raises(InvalidFilter, match="'colour'"):
        export_create(
            organization=org,
            user=owner,
            exporter="contacts",
            format="csv",
            params={"filters": {"colour": "red"}},
        )
    with pytest.raises(InvalidFilter, match="birth_date_from"):
        export_create(
            organization=org,
            user=owner,
            exporter="contacts",
            format="csv",
            params={"filters": {"birth_date_from": "yesterday-ish"}},
        )
    with pytest.raises(FerryError, match="'spaceships'"):
        export_create(organization=org, user=owner, exporter="spaceships", format="csv")
    assert not DataJob.objects.exists()


def test_it_checks_export_and_pdf_permissions(org, owner, viewer, member):
    owner_m = Membership.objects.get(user=owner)
    viewer_m = Membership.objects.get(user=viewer)
    exporter_get("contacts").permission_check(membership=owner_m, format="pdf")
    exporter_get("contacts").permission_check(membership=viewer_m, format="xlsx")
    with pytest.raises(PermissionDenied):
        exporter_get("contacts").permission_check(membership=viewer_m, format="pdf")
    with pytest.raises(PermissionDenied):
        exporter_get("audit-events").permission_check(membership=viewer_m, format="csv")
    viewer_m.revoked_permissions = ["can_export_contact"]
    viewer_m.save()
    viewer_m = Membership.objects.get(user=viewer)  # codes are cached per instance
    with pytest.raises(PermissionDenied):
        exporter_get("contacts").permission_check(membership=viewer_m, format="csv")


def test_it_sets_the_pdf_permission_on_pdf_jobs_and_writes_every_row(org, owner, contacts):
    job = export_create(organization=org, user=owner, exporter="contacts", format="pdf")
    assert job.params["permission"] == "can_export_contact_pdf"
    job, _ = run_sync(job)
    reader = PdfReader(io.BytesIO(read_output(job)))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert all(f"c{i}@example.com" in text for i in range(6))
    assert "Customer" in text  # choice labels for people reading the PDF
    assert "Demo Trading Co." in text


def test_it_refuses_a_pdf_beyond_the_row_limit_with_a_pointer_to_xlsx(
    org, owner, contacts, settings
):
    settings.FERRY = {**settings.FERRY, "PDF_MAX_ROWS": 5}
    with pytest.raises(FerryError, match="XLSX"):
        export_create(organization=org, user=owner, exporter="contacts", format="pdf")


def test_it_fails_the_job_when_the_permission_was_revoked_before_it_ran(org, member, contacts):
    job = export_create(organization=org, user=member, exporter="contacts", format="csv")
    m = Membership.objects.get(user=member)
    m.revoked_permissions = ["can_export_contact"]
    m.save()
    with pytest.raises(FerryError, match="may not export"):
        run_sync(job)


def test_it_records_an_audit_event_per_export(org, owner, contacts):
    job = export_create(organization=org, user=owner, exporter="contacts", format="xlsx")
    # One event per file produced, written when the file is: with the rows it holds.
    assert not AuditEvent.objects.filter(event_type=AuditEvent.Type.EXPORT).exists()
    run_sync(job)
    event = AuditEvent.objects.get(event_type=AuditEvent.Type.EXPORT)
    assert event.organization == org and event.user == owner
    assert event.details["job"] == job.pk and event.details["resource"] == "contacts"
    assert event.details["rows"] == 6 and event.object_repr == "Export of Contacts as Excel (XLSX)"


def test_it_writes_typed_xlsx_cells(org, owner, contacts):
    job = export_create(
        organization=org,
        user=owner,
        exporter="contacts",
        format="xlsx",
        params={"columns": ["email", "birth_date", "do_not_email"]},
    )
    job, _ = run_sync(job)
    ws = load_workbook(io.BytesIO(read_output(job))).active
    assert [c.value for c in ws[1]] == ["Email", "Birth date", "Do not e-mail"]
    assert ws["B2"].is_date and ws["B2"].number_format == "yyyy-mm-dd"
    assert ws["C2"].value is False
    assert ws.max_row == 7


# --- pages -----------------------------------------------------------------------------------
def test_it_shows_the_builder_with_filters_columns_and_formats(manager_client, contacts):
    response = manager_client.get(
        reverse("reports:export") + "?resource=contacts&lifecycle_stage=customer"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Export records</h1>" in html
    assert 'name="f-lifecycle_stage" value="customer"' in html and "checked" in html
    assert 'value="pdf"' in html
    assert 'name="columns" value="email"' in html


def test_it_does_not_offer_pdf_without_the_pdf_permission(viewer_client, contacts):
    html = viewer_client.get(reverse("reports:export") + "?resource=contacts").content.decode()
    assert 'value="xlsx"' in html and 'value="pdf"' not in html


def test_it_refuses_a_pdf_export_without_the_pdf_permission(viewer_client, contacts):
    response = viewer_client.post(
        reverse("reports:export"), {"resource": "contacts", "format": "pdf", "delimiter": ","}
    )
    assert response.status_code == 403
    assert not DataJob.objects.exists()


def test_it_refuses_a_resource_the_member_may_not_export(member_client, contacts):
    response = member_client.post(
        reverse("reports:export"), {"resource": "audit-events", "format": "csv", "delimiter": ","}
    )
    assert response.status_code == 403
    assert (
        member_client.get(reverse("reports:export") + "?resource=audit-events").status_code == 403
    )


def test_it_previews_the_count_and_first_rows(owner_client, contacts):
    response = owner_client.get(
        reverse("reports:export_preview"),
        {
            "resource": "contacts",
            "f-lifecycle_stage": "customer",
            "columns": ["email", "first_name"],
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert '<strong class="count">3</strong>' in html
    assert "c0@example.com" in html and "c5@example.com" not in html
    assert "secret@rival.example" not in html


def test_it_shows_a_bad_filter_value_in_the_preview(owner_client, contacts):
    html = owner_client.get(
        reverse("reports:export_preview"),
        {"resource": "contacts", "f-birth_date_from": "31/31/2020"},
    ).content.decode()
    assert "birth_date_from" in html and "31/31/2020" in html


def test_it_starts_an_export_job_and_redirects_to_the_job_page(owner_client, owner, contacts):
    response = owner_client.post(
        reverse("reports:export"),
        {
            "resource": "contacts",
            "format": "xlsx",
            "f-lifecycle_stage": "customer",
            "columns": ["last_name", "email"],
            "delimiter": ",",
        },
    )
    job = DataJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "jobs:detail", args=[job.pk]
    )
    assert job.status == DataJob.Status.QUEUED and job.user == owner
    assert job.params["columns"] == ["last_name", "email"]
    assert job.params["filters"] == {"lifecycle_stage": ["customer"]}


def test_it_shows_form_errors_instead_of_exporting(owner_client, contacts):
    response = owner_client.post(
        reverse("reports:export"),
        {
            "resource": "contacts",
            "format": "xlsx",
            "f-birth_date_from": "not a date",
            "delimiter": ",",
        },
    )
    assert response.status_code == 400
    assert "birth_date_from" in response.content.decode()
    assert not DataJob.objects.exists()


def test_it_does_not_show_another_organizations_export_job(other_client, org, owner, contacts):
    job = export_create(organization=org, user=owner, exporter="contacts", format="csv")
    run_sync(job)
    assert other_client.get(reverse("jobs:detail", args=[job.pk])).status_code == 404
    assert other_client.get(reverse("jobs:download", args=[job.pk, "output"])).status_code == 404


def test_it_lets_the_owner_download_the_export_but_not_a_pdf_without_permission(
    client_for, org, owner, viewer, contacts
):
    job = export_create(organization=org, user=owner, exporter="contacts", format="pdf")
    run_sync(job)
    assert (
        client_for(owner).get(reverse("jobs:download", args=[job.pk, "output"])).status_code == 200
    )
    assert (
        client_for(viewer).get(reverse("jobs:download", args=[job.pk, "output"])).status_code == 403
    )


# --- templates -------------------------------------------------------------------------------
def test_it_saves_an_export_template_and_reruns_it_in_one_click(owner_client, owner, org, contacts):
    response = owner_client.post(
        reverse("reports:export_template_save"),
        {
            "resource": "contacts",
            "format": "csv",
            "columns": ["email", "first_name"],
            "f-lifecycle_stage": "customer",
            "delimiter": ";",
            "template_name": "Customers for mailing",
        },
    )
    template = DataTemplate.objects.get(template_type=DataTemplate.Type.EXPORT)
    assert response.status_code == 302
    assert template.mapping == {
        "columns": ["email", "first_name"],
        "filters": {"lifecycle_stage": ["customer"]},
        "format": "csv",
    }
    assert template.options == {"delimiter": ";"}
    html = owner_client.get(reverse("reports:export") + f"?template={template.pk}").content.decode()
    assert "Customers for mailing" in html and 'name="f-lifecycle_stage" value="customer"' in html

    response = owner_client.post(reverse("reports:export_template_run", args=[template.pk]))
    job = DataJob.objects.get()
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    job, _ = run_sync(job)
    rows = list(csv.reader(io.StringIO(read_output(job).decode()), delimiter=";"))
    assert rows[0] == ["Email", "First name"] and len(rows) == 4
    template.refresh_from_db()
    assert template.last_used_at is not None


def test_it_does_not_flag_a_just_saved_export_template_as_needing_attention(
    owner_client, owner, org, contacts
):
    from library.selectors import template_stale_fields

    owner_client.post(
        reverse("reports:export_template_save"),
        {
            "resource": "contacts",
            "format": "csv",
            "columns": ["email", "birth_date"],
            "f-lifecycle_stage": "customer",
            "f-birth_date_from": "1980-01-01",
            "f-q": "harbour",
            "delimiter": ";",
            "bom": "on",
            "choice_codes": "on",
            "template_name": "Mailing",
        },
    )
    template = DataTemplate.objects.get(template_type=DataTemplate.Type.EXPORT)
    assert template.options == {"delimiter": ";", "bom": True, "choice_codes": True}
    assert template_stale_fields(template) == []
    template.mapping["columns"].append("shoe_size")
    assert template_stale_fields(template) == ["shoe_size"]


def test_it_keeps_export_templates_inside_the_organization(other_client, org, owner, contacts):
    template = export_template_save(
        organization=org,
        membership=Membership.objects.get(user=owner),
        name="Mine",
        resource="contacts",
        format="csv",
    )
    assert (
        other_client.post(reverse("reports:export_template_run", args=[template.pk])).status_code
        == 404
    )
    assert (
        other_client.get(reverse("reports:export") + f"?template={template.pk}").status_code == 404
    )
    assert (
        other_client.post(reverse("reports:export_template_delete", args=[template.pk])).status_code
        == 404
    )
    assert DataTemplate.objects.filter(pk=template.pk).exists()


def test_it_hides_another_members_personal_template(client_for, org, owner, member, contacts):
    template = export_template_save(
        organization=org,
        membership=Membership.objects.get(user=member),
        name="Personal",
        resource="contacts",
        format="csv",
    )
    viewer_html = client_for(member).get(reverse("reports:export")).content.decode()
    assert "Personal" in viewer_html
    from tests.factories import MembershipFactory, UserFactory

    colleague = UserFactory(username="colleague")
    MembershipFactory(user=colleague, organization=org, role="ops")
    assert "Personal" not in client_for(colleague).get(reverse("reports:export")).content.decode()
    assert (
        client_for(colleague)
        .post(reverse("reports:export_template_run", args=[template.pk]))
        .status_code
        == 404
    )


def test_it_refuses_to_take_over_another_members_template_name(org, owner, member):
    export_template_save(
        organization=org,
        membership=Membership.objects.get(user=owner),
        name="Weekly",
        resource="contacts",
        format="csv",
        is_shared=True,
    )
    with pytest.raises(FerryError, match="already exists"):
        export_template_save(
            organization=org,
            membership=Membership.objects.get(user=member),
            name="Weekly",
            resource="contacts",
            format="xlsx",
        )


def test_it_swaps_only_the_builder_when_the_resource_changes(owner_client):
    response = owner_client.get(
        reverse("reports:export") + "?resource=accounts",
        headers={"HX-Request": "true", "HX-Target": "builder"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>" not in html and 'id="builder"' in html
    assert 'name="columns" value="website"' in html  # the accounts' columns
    assert 'name="f-name"' in html  # prefixed: cannot collide with the builder's own fields


@pytest.mark.parametrize("name", [r.name for r in registry.all()])
def test_it_builds_and_exports_every_resource(name, org, owner, owner_client, tmp_path):
    resource = resource_get(name)
    page = owner_client.get(reverse("reports:export") + f"?resource={name}")
    assert page.status_code == 200
    preview = owner_client.get(reverse("reports:export_preview"), {"resource": name})
    assert "matching" in preview.content.decode()
    every_column = [f.name for f in resource.fields]
    path = tmp_path / f"{name}.xlsx"
    written = export_render(
        organization=org,
        exporter=name,
        format="xlsx",
        path=path,
        params={"columns": every_column},
        progress=NullProgress(),
    )["rows"]
    assert written == resource.queryset(org).count()  # 0, or the audit trail's login events
    assert [c.value for c in load_workbook(path).active[1]] == [f.label for f in resource.fields]
