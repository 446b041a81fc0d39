"""export_create / export_run for reports: validation, permissions, the job's params, the audit event."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from accounts.models import Membership
from business.models import AuditEvent
from jobs.models import DataJob
from reports.exporters import (
    ExportAccessLost,
    ExportParamsInvalid,
    ExportPermissionDenied,
    NullProgress,
    UnknownExporter,
    export_create,
    export_render,
    export_run,
    exporter_get,
    exporters_all,
    exporters_for,
)
from tests.factories import CustomerFactory, SalesOrderLineFactory, WarehouseFactory


def membership(user, org):
    return Membership.objects.get(user=user, organization=org)


def test_it_registers_the_four_reports_with_their_identifiers():

    assert [r.identifier for r in exporters_all(kind="report")] == [
        "sales",
        "customer-aging",
        "inventory-valuation",
        "audit-log",
    ]


def test_it_refuses_an_unknown_report_with_a_ferry_error():
    with pytest.raises(UnknownExporter) as exc:
        exporter_get("profit-and-loss", kind="report")
    assert "sales" in exc.value.message and exc.value.code == "not_found"


def test_it_lists_the_reports_a_role_may_run(org, owner, manager, member, viewer):
    def ids(user):
        return {r.identifier for r in exporters_for(membership(user, org), kind="report")}

    everything = {"sales", "customer-aging", "inventory-valuation", "audit-log"}
    assert ids(owner) == everything
    assert ids(manager) == everything
    # Ops and viewers export spreadsheets but do not see the audit trail.
    assert ids(member) == everything - {"audit-log"}
    assert ids(viewer) == everything - {"audit-log"}
    assert exporters_for(None, kind="report") == []


def test_it_creates_a_report_job_with_json_safe_params_and_the_file_permission(org, manager):
    WarehouseFactory(organization=org, code="MAIN")
    CustomerFactory(organization=org, code="C1")
    job = export_create(
        organization=org,
        user=manager,
        exporter="sales",
        format="PDF",
        params={
            "date_from": "2026-01-01",
            "warehouse": "MAIN",
            "customer": "C1",
            "status": "confirmed,cancelled",
        },
    )
    assert job.job_type == DataJob.Type.REPORT and job.target == "sales" and job.format == "pdf"
    assert job.params["report_params"] == {
        "date_from": "2026-01-01",
        "warehouse": "MAIN",
        "customer": "C1",
        "status": ["confirmed", "cancelled"],
    }
    assert job.params["permission"] == "can_export_salesorder_pdf"
    assert job.params["result_url"] == f"/export/reports/sales/jobs/{job.pk}/"
    json.dumps(job.params)  # really JSON-safe
    xlsx = export_create(organization=org, user=manager, exporter="sales", format="xlsx", params={})
    assert xlsx.params["permission"] == "can_export_salesorder"


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"date_from": "2026-02-30"}, "date_from", "'2026-02-30' is not a date; use YYYY-MM-DD"),
        ({"date_from": "2026-03-01", "date_to": "2026-02-01"}, "date_to", "before the start"),
        ({"warehouse": "NOPE"}, "warehouse", "valid choice"),
        ({"customer": "C404"}, "customer", "No customer with the code 'C404'"),
        ({"status": ["shipped"]}, "status", "valid choice"),
        ({"colour": "red"}, "colour", "Unknown parameter 'colour'"),
    ],
)
def test_it_reports_invalid_params_per_field(org, manager, params, field, words):
    with pytest.raises(ExportParamsInvalid) as exc:
        export_create(organization=org, user=manager, exporter="sales", format="csv", params=params)
    assert field in exc.value.errors
    assert words in " ".join(exc.value.errors[field])
    assert not DataJob.objects.exists()


def test_it_names_a_bad_number_in_its_message(org, manager):
    with pytest.raises(ExportParamsInvalid) as exc:
        export_create(
            organization=org,
            user=manager,
            exporter="customer-aging",
            format="csv",
            params={"min_outstanding": "12,5O"},
        )
    assert exc.value.errors["min_outstanding"] == [
        "'12,5O' is not a number; use digits with a '.' for decimals, e.g. 1250.50."
    ]
    assert "min_outstanding" in exc.value.message and "12,5O" in exc.value.message


def test_it_refuses_an_unknown_format(org, manager):
    with pytest.raises(ExportParamsInvalid) as exc:
        export_create(organization=org, user=manager, exporter="sales", format="docx", params={})
    assert "docx" in exc.value.errors["format"][0]


def test_it_validates_choices_against_the_organization(org, other_org, manager):
    WarehouseFactory(organization=other_org, code="RIVAL")
    CustomerFactory(organization=other_org, code="R1")
    with pytest.raises(ExportParamsInvalid) as exc:
        export_create(
            organization=org,
            user=manager,
            exporter="sales",
            format="csv",
            params={"warehouse": "RIVAL", "customer": "R1"},
        )
    assert set(exc.value.errors) == {"warehouse", "customer"}


def test_it_needs_can_view_audit_for_the_audit_log(org, member, manager):
    with pytest.raises(ExportPermissionDenied):
        export_create(organization=org, user=member, exporter="audit-log", format="csv", params={})
    assert export_create(
        organization=org, user=manager, exporter="audit-log", format="csv", params={}
    )


def test_it_needs_the_pdf_permission_for_a_pdf(org, member, viewer):
    for user in (member, viewer):
        with pytest.raises(ExportPermissionDenied) as exc:
            export_create(organization=org, user=user, exporter="sales", format="pdf", params={})
        assert "can_export_salesorder_pdf" in exc.value.message
        assert export_create(
            organization=org, user=user, exporter="sales", format="xlsx", params={}
        )


def test_it_refuses_someone_outside_the_organization(org, outsider, other_user):
    for user in (outsider, other_user):
        with pytest.raises(ExportPermissionDenied):
            export_create(organization=org, user=user, exporter="sales", format="csv", params={})


def test_it_runs_a_job_stores_the_file_and_audits_it(org, manager, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    SalesOrderLineFactory(
        order__customer=CustomerFactory(organization=org),
        quantity=Decimal("3"),
        unit_price=Decimal("10.00"),
        unit_cost=Decimal("4.00"),
    )
    job = export_create(organization=org, user=manager, exporter="sales", format="json", params={})
    summary = export_run(job=job, progress=NullProgress())
    job.refresh_from_db()
    assert summary["rows"] == 2
    assert summary["figures"]["revenue"] == "30.00"
    assert ["Gross profit", "18.00"] in summary["_key_figures"]
    assert job.output_filename.startswith("sales-demo-") and job.output_filename.endswith(".json")
    with job.output_file.open("rb") as fh:
        data = json.loads(fh.read(), parse_float=Decimal)
    assert data["summary"]["Revenue (net of discounts, before tax)"] == Decimal("30.00")
    event = AuditEvent.objects.get(organization=org, event_type="report")
    assert event.user == manager and event.object_id == "sales"
    assert event.details["job"] == job.pk and event.details["rows"] == 2


def test_it_fails_the_run_when_the_permission_was_revoked_meanwhile(org, manager):

    job = export_create(organization=org, user=manager, exporter="sales", format="pdf", params={})
    m = membership(manager, org)
    m.revoked_permissions = ["can_export_salesorder_pdf"]
    m.save()
    with pytest.raises(ExportAccessLost):
        export_run(job=job, progress=NullProgress())


def test_it_fails_the_run_when_a_chosen_record_disappeared(org, manager):
    warehouse = WarehouseFactory(organization=org, code="GONE")
    job = export_create(
        organization=org, user=manager, exporter="sales", format="csv", params={"warehouse": "GONE"}
    )
    warehouse.delete()
    with pytest.raises(ExportParamsInvalid) as exc:
        export_run(job=job, progress=NullProgress())
    assert "warehouse" in exc.value.errors


def test_it_stops_between_rows_when_cancelled_and_leaves_no_file(org, owner, tmp_path):
    from django.utils import timezone

    from jobs.errors import JobCancelled

    AuditEvent.objects.bulk_create(
        AuditEvent(organization=org, time=timezone.now(), user=owner, event_type="login")
        for _ in range(1200)
    )

    class CancelledProgress(NullProgress):
        def check_cancel(self, *, force: bool = False) -> None:
            raise JobCancelled()

    target = tmp_path / "audit.xlsx"
    with pytest.raises(JobCancelled):
        export_render(
            organization=org,
            exporter="audit-log",
            format="xlsx",
            params={},
            path=target,
            progress=CancelledProgress(),
        )
    assert not target.exists()


def test_it_refuses_an_anonymous_user(org):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(ExportPermissionDenied):
        export_create(
            organization=org, user=AnonymousUser(), exporter="sales", format="csv", params={}
        )
