"""Exports run by a real Huey consumer process: progress, output file, cancellation, failure."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Membership
from business.models import Contact
from jobs.models import DataJob
from jobs.services import job_cancel
from reports.exporters import export_create, export_start

pytestmark = pytest.mark.consumer


def seed(org, n):
    Contact.objects.bulk_create(
        Contact(organization=org, email=f"c{i}@example.com", first_name=f"F{i}") for i in range(n)
    )


def test_it_runs_an_export_in_the_worker_and_offers_the_file(
    org, owner, owner_client, huey_consumer, job_waiter
):
    seed(org, 2500)
    job = export_create(
        organization=org,
        user=owner,
        exporter="contacts",
        format="xlsx",
        params={"columns": ["email"]},
    )
    export_start(job=job)
    job = job_waiter(job)
    assert job.status == DataJob.Status.COMPLETED, huey_consumer.log_path.read_text()
    assert (job.total, job.processed, job.succeeded) == (2500, 2500, 2500)
    assert job.summary["rows"] == 2500
    response = owner_client.get(reverse("jobs:download", args=[job.pk, "output"]))
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert ws.max_row == 2501 and ws["A1"].value == "Email"


def test_it_fails_with_a_clear_message_when_the_permission_went_away(
    org, member, huey_consumer, job_waiter
):
    seed(org, 10)
    job = export_create(organization=org, user=member, exporter="contacts", format="csv")
    Membership.objects.filter(user=member).update(revoked_permissions=["can_export_contact"])
    export_start(job=job)
    job = job_waiter(job)
    assert job.status == DataJob.Status.FAILED
    assert job.error_message == "You may not export Contacts."
    assert not job.output_file


def test_it_cancels_a_queued_export(org, owner, huey_consumer, job_waiter):
    seed(org, 10)
    job = export_create(organization=org, user=owner, exporter="contacts", format="csv")
    job_cancel(job=job)
    export_start(job=job)
    job = job_waiter(job)
    assert job.status == DataJob.Status.CANCELLED
    assert not job.output_file
