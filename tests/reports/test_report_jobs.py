"""Report jobs in a real Huey consumer: every format end to end, downloads, failures."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from jobs.models import DataJob
from reports.exporters import export_create, export_start
from tests.factories import (
    CreditTransactionFactory,
    CustomerFactory,
    SalesOrderFactory,
    SalesOrderLineFactory,
    StockItemFactory,
)
from tests.reports.test_ready_helpers import read_csv_sections

pytestmark = pytest.mark.consumer


@pytest.fixture
def business(org):
    customer = CustomerFactory(organization=org, code="C1", name="Harbour Café")
    order = SalesOrderFactory(customer=customer, number="SO-1")
    SalesOrderLineFactory(
        order=order, quantity=Decimal("3"), unit_price=Decimal("20.00"), unit_cost=Decimal("8.00")
    )
    CreditTransactionFactory(customer=customer, amount=Decimal("60.00"))
    StockItemFactory(organization=org, quantity=Decimal("5"))
    return customer


def start(org, user, report, fmt, params=None):
    job = export_create(
        organization=org, user=user, exporter=report, format=fmt, params=params or {}
    )
    export_start(job=job)
    return job


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json", "pdf"])
def test_it_runs_each_report_in_the_worker(
    org, manager, manager_client, business, huey_consumer, job_waiter, fmt
):
    jobs = {
        r: start(org, manager, r, fmt)
        for r in ("sales", "customer-aging", "inventory-valuation", "audit-log")
    }
    for report, job in jobs.items():
        job = job_waiter(job, timeout=90)
        assert job.status == DataJob.Status.COMPLETED, (
            job.error_message + huey_consumer.log_path.read_text()
        )
        assert job.output_filename.endswith(f".{fmt}") and job.output_filename.startswith(report)
        assert job.percent == 100
        download = manager_client.get(reverse("jobs:download", args=[job.pk, "output"]))
        assert download.status_code == 200
        body = b"".join(download.streaming_content)
        if fmt == "json":
            assert "summary" in json.loads(body)
        elif fmt == "csv":
            assert body.startswith(b"Summary")
        elif fmt == "pdf":
            from pypdf import PdfReader

            text = PdfReader(io.BytesIO(body)).pages[0].extract_text()
            assert "Summary" in text
        else:
            assert body[:2] == b"PK"
    sales = DataJob.objects.get(pk=jobs["sales"].pk)
    assert sales.summary["figures"]["revenue"] == "60.00"
    assert sales.summary["figures"]["profit"] == "36.00"


def test_it_fails_a_job_with_a_clear_message_when_a_filter_no_longer_matches(
    org, manager, business, huey_consumer, job_waiter
):
    job = start(org, manager, "sales", "csv", {"customer": "C1"})
    business.orders.all().delete()
    business.credit_transactions.all().delete()
    # Re-coding the customer makes the stored filter invalid before the worker runs.
    business.code = "C1-RENAMED"
    business.save()
    job = job_waiter(job)
    assert job.status == DataJob.Status.FAILED
    assert "No customer with the code 'C1'" in job.error_message
    assert not job.output_file


def test_it_writes_the_csv_of_a_job_with_sections(
    org, manager, manager_client, business, huey_consumer, job_waiter, tmp_path
):
    job = job_waiter(start(org, manager, "customer-aging", "csv"))
    download = manager_client.get(reverse("jobs:download", args=[job.pk, "output"]))
    file = tmp_path / "aging.csv"
    file.write_bytes(b"".join(download.streaming_content))
    sections = read_csv_sections(file)
    assert list(sections) == ["Summary", "Customer Details", "Credit Aging", "Credit Transactions"]
    assert sections["Credit Aging"][1][:2] == ["C1", "Harbour Café"]
