"""Reports pages: listing by permission, the filter form, starting a job, status, isolation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jobs.models import DataJob
from reports.exporters import NullProgress, export_create, export_run
from tests.factories import CustomerFactory, WarehouseFactory


def test_it_lists_the_reports_a_user_may_run(manager_client, member_client):
    page = manager_client.get(reverse("reports:reports"))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<h1>") == 1
    for name in ("Sales", "Customers &amp; credit aging", "Inventory valuation", "Audit log"):
        assert name in html
    ops = member_client.get(reverse("reports:reports")).content.decode()
    assert "Inventory valuation" in ops and "Audit log" not in ops


def test_it_sends_anonymous_visitors_to_login(client):
    page = client.get(reverse("reports:reports"))
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]


def test_it_shows_the_filter_form_with_the_organizations_choices(org, other_org, manager_client):
    WarehouseFactory(organization=org, code="MAIN", name="Main")
    WarehouseFactory(organization=other_org, code="RIVAL")
    page = manager_client.get(reverse("reports:report", args=["sales"]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="MAIN"' in html and "RIVAL" not in html
    for label in ("From", "To", "Warehouse or store", "Customer code", "Status", "Format"):
        assert f">{label}<" in html or f"{label}</legend>" in html
    assert 'value="pdf"' in html
    assert "Cancelled orders are left out" in html


def test_it_offers_pdf_only_with_the_pdf_permission(org, member_client):
    html = member_client.get(reverse("reports:report", args=["sales"])).content.decode()
    assert 'value="pdf"' not in html
    assert "can_export_salesorder_pdf" in html
    page = member_client.post(reverse("reports:report", args=["sales"]), {"format": "pdf"})
    assert page.status_code == 200
    assert "valid choice" in page.content.decode()
    assert not DataJob.objects.exists()


def test_it_refuses_the_audit_log_without_can_view_audit(member_client, viewer_client):
    for client in (member_client, viewer_client):
        assert client.get(reverse("reports:report", args=["audit-log"])).status_code == 403
        page = client.post(reverse("reports:report", args=["audit-log"]), {"format": "csv"})
        assert page.status_code == 403
    assert not DataJob.objects.exists()


def test_it_answers_404_for_an_unknown_report(manager_client):
    assert manager_client.get("/export/reports/nothing-here/").status_code == 404


def test_it_starts_a_job_and_redirects_to_its_page(
    org, manager, manager_client, django_capture_on_commit_callbacks
):
    CustomerFactory(organization=org, code="C1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = manager_client.post(
            reverse("reports:report", args=["sales"]),
            {"format": "xlsx", "customer": "C1", "status": ["confirmed", "invoiced"]},
        )
    job = DataJob.objects.get()
    assert page.status_code == 302
    assert page["Location"] == reverse("reports:report_job", args=["sales", job.pk])
    assert job.status == DataJob.Status.QUEUED and job.user == manager
    assert job.params["report_params"] == {"customer": "C1", "status": ["confirmed", "invoiced"]}
    assert len(callbacks) == 1  # queued on commit
    job_page = manager_client.get(page["Location"]).content.decode()
    assert "Customer code: C1" in job_page and "Status: Confirmed, Invoiced" in job_page
    assert 'hx-trigger="every 1s"' in job_page


def test_it_shows_field_errors_next_to_the_fields(org, manager_client):
    page = manager_client.post(
        reverse("reports:report", args=["sales"]),
        {"format": "csv", "customer": "C404", "date_from": "2026-05-01", "date_to": "2026-04-01"},
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "No customer with the code &#x27;C404&#x27; in this organization." in html
    assert "is before the start date" in html
    assert 'aria-invalid="true"' in html
    assert not DataJob.objects.exists()


def test_it_stops_polling_and_offers_the_download_when_done(org, manager, manager_client):
    job = export_create(organization=org, user=manager, exporter="sales", format="csv", params={})
    url = reverse("reports:report_job_status", args=["sales", job.pk])
    running = manager_client.get(url)
    assert running.status_code == 200 and b"every 1s" in running.content
    job.output_file.save("sales.csv", __import__("io").BytesIO(b"x"), save=False)
    DataJob.objects.filter(pk=job.pk).update(
        status="completed",
        output_file=job.output_file.name,
        output_filename="sales.csv",
        summary={"rows": 3, "_key_figures": [["Revenue", "30.00"]]},
    )
    done = manager_client.get(url)
    html = done.content.decode()
    assert done.status_code == 286
    assert reverse("jobs:download", args=[job.pk, "output"]) in html
    assert "every 1s" not in html and "30.00" in html


def test_it_hides_the_download_without_the_files_permission(org, manager, member_client):
    job = export_create(organization=org, user=manager, exporter="sales", format="pdf", params={})
    DataJob.objects.filter(pk=job.pk).update(status="completed", output_filename="s.pdf")
    html = member_client.get(reverse("reports:report_job", args=["sales", job.pk])).content.decode()
    assert reverse("jobs:download", args=[job.pk, "output"]) not in html
    assert "does not allow downloading" in html
    assert member_client.get(reverse("jobs:download", args=[job.pk, "output"])).status_code == 403


@pytest.mark.parametrize("name", ["report_job", "report_job_status"])
def test_it_answers_404_for_another_organizations_report_job(org, manager, other_client, name):
    job = export_create(organization=org, user=manager, exporter="sales", format="csv", params={})
    assert other_client.get(reverse(f"reports:{name}", args=["sales", job.pk])).status_code == 404
    assert other_client.get(reverse("jobs:download", args=[job.pk, "output"])).status_code == 404


def test_it_answers_404_for_a_job_under_another_reports_address(org, manager, manager_client):
    job = export_create(organization=org, user=manager, exporter="sales", format="csv", params={})
    assert (
        manager_client.get(
            reverse("reports:report_job", args=["customer-aging", job.pk])
        ).status_code
        == 404
    )


def test_it_never_lists_another_organizations_runs(
    org, other_org, manager, other_user, manager_client
):
    export_create(
        organization=other_org, user=other_user, exporter="sales", format="csv", params={}
    )
    html = manager_client.get(reverse("reports:reports")).content.decode()
    assert "Recent reports" not in html


def test_it_offers_cancel_to_the_starter_only(org, manager, manager_client, member_client):
    job = export_create(organization=org, user=manager, exporter="sales", format="csv", params={})
    url = reverse("reports:report_job_status", args=["sales", job.pk])
    assert reverse("jobs:cancel", args=[job.pk]) in manager_client.get(url).content.decode()
    assert reverse("jobs:cancel", args=[job.pk]) not in member_client.get(url).content.decode()


def test_it_names_the_reports_of_recent_runs(org, manager, manager_client):
    export_create(
        organization=org, user=manager, exporter="customer-aging", format="csv", params={}
    )
    html = manager_client.get(reverse("reports:reports")).content.decode()
    assert "Recent reports" in html and "Customers &amp; credit aging" in html


def test_it_keeps_audit_figures_off_pages_of_members_without_can_view_audit(
    org, manager, member_client, tmp_path, settings
):

    settings.MEDIA_ROOT = tmp_path
    job = export_create(
        organization=org, user=manager, exporter="audit-log", format="csv", params={}
    )
    summary = export_run(job=job, progress=NullProgress())
    assert set(summary) == {"report", "rows"}  # no figures for the jobs pages
    assert (
        member_client.get(reverse("reports:report_job", args=["audit-log", job.pk])).status_code
        == 403
    )
