"""The documents API: one order's PDF, a batch job, permissions and org scoping."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from jobs.models import DataJob
from tests.factories import CustomerFactory, SalesOrderFactory, SalesOrderLineFactory

pytestmark = pytest.mark.django_db


def _order(org, number):
    order = SalesOrderFactory(
        customer=CustomerFactory(organization=org), number=number, status="invoiced"
    )
    SalesOrderLineFactory(
        order=order,
        quantity=Decimal("4"),
        unit_price=Decimal("12.35"),
        discount=Decimal("1.40"),
        tax=Decimal("9.60"),
        tax_rate=Decimal("20"),
    )
    return order


def test_it_answers_one_orders_invoice_as_a_pdf(owner_api, org):
    order = _order(org, "SO-7001")
    response = owner_api.post(f"/api/v1/sales-orders/{order.pk}/documents/invoice/")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    # 4 × 12.35 = 49.40, less 1.40 = 48.00 net, 9.60 tax
    assert "£48.00" in text and "£9.60" in text and "£57.60" in text


def test_it_hides_another_organizations_order_and_refuses_without_permission(
    owner_api, viewer_api, other_org
):
    foreign = _order(other_org, "SO-9001")
    assert (
        owner_api.post(f"/api/v1/sales-orders/{foreign.pk}/documents/invoice/").status_code == 404
    )
    assert (
        owner_api.post(f"/api/v1/sales-orders/{foreign.pk}/documents/receipt/").status_code == 404
    )


def test_it_queues_a_batch_and_answers_202_with_the_job(owner_api, org):
    orders = [_order(org, f"SO-70{n}") for n in range(3)]
    response = owner_api.post(
        "/api/v1/sales-orders/documents/delivery_note/",
        data=json.dumps({"mode": "merged", "ids": [o.pk for o in orders]}),
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    job = DataJob.objects.get(pk=response.json()["job_id"])
    assert job.target == "delivery_note" and job.format == "pdf"
    assert job.target_label == "Delivery notes"
    assert job.params["permission"] == "can_print_delivery_note"


def test_it_refuses_a_batch_of_invoices_to_a_viewer(viewer_api, org):
    _order(org, "SO-7100")
    response = viewer_api.post(
        "/api/v1/sales-orders/documents/invoice/",
        data=json.dumps({"filters": {"status": "invoiced"}}),
        content_type="application/json",
    )
    assert response.status_code == 403


def test_it_documents_the_endpoints_in_the_schema(owner_api):
    schema = owner_api.get("/api/schema/?format=json").json()
    assert "/api/v1/sales-orders/{id}/documents/{kind}/" in schema["paths"] or any(
        "documents/{kind}" in path for path in schema["paths"]
    )


def test_it_prints_filtered_invoices_from_the_command_line(org, tmp_path):
    for n in range(3):
        _order(org, f"SO-80{n}")
    SalesOrderFactory(customer=CustomerFactory(organization=org), number="SO-8999", status="draft")
    out = tmp_path / "invoices.zip"
    call_command(
        "print_documents", "invoice", "--filter", "status=invoiced", "--output", str(out),
        "--org", org.slug, "--workers", "1", "--quiet",
    )  # fmt: skip
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == [f"invoice-SO-80{n}.pdf" for n in range(3)]
    merged = tmp_path / "all.pdf"
    call_command(
        "print_documents", "invoice", "--filter", "status=invoiced", "--merged",
        "--output", str(merged), "--org", org.slug, "--workers", "1", "--quiet",
    )  # fmt: skip
    assert len(PdfReader(merged).pages) == 3
