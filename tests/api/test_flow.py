"""The whole API over HTTP with a real Huey consumer: import, poll, log, failed rows, undo;
export XLSX and download it."""

from __future__ import annotations

import csv
import io
import time

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from business.models import Account, Contact
from tests.api.conftest import make_token, token_client
from tests.factories import ContactFactory

pytestmark = pytest.mark.consumer

CSV = (
    b"Email,First name,Last name,Company\n"
    b"ada@example.com,Ada,Lovelace,Analytical Engines\n"
    b"grace@example.com,Grace,Hopper,Navy\n"
    b"not-an-email,Bad,Row,Nowhere\n"
    b"alan@example.com,Alan,Turing,Bletchley\n"
)


def poll(api, url: str, timeout: float = 60.0) -> dict:
    """GET the job until it is finished, as a client script would."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(url).json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"job still {body['status']} after {timeout}s: {body}")


def test_it_imports_reads_the_log_downloads_failed_rows_and_undoes(org, member, huey_consumer):
    api = token_client(make_token(member, org))
    response = api.post(
        "/api/v1/contacts/import/",
        {
            "file": SimpleUploadedFile("people.csv", CSV),
            "mode": "skip-invalid",
            "create_missing": '{"account": true}',
        },
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="flow-import",
    )
    assert response.status_code == 202, response.json()
    job = poll(api, response.json()["url"])
    assert job["status"] == "completed", (job, huey_consumer.log_path.read_text())
    assert job["progress"] == 100
    assert job["counts"]["failed"] == 1, job
    assert job["counts"]["succeeded"] == 3, job
    assert Contact.objects.filter(organization=org).count() == 3
    assert Account.objects.filter(organization=org).count() == 3

    log = api.get(job["links"]["log"]).json()
    errors = [e for e in log["results"] if e["level"] == "error"]
    assert errors and errors[0]["row_number"] == 4
    assert errors[0]["value"] == "not-an-email" and errors[0]["column"] == "Email"

    assert job["links"]["failed_rows"], job
    failed = api.get(job["links"]["failed_rows"])
    assert failed.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(failed.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:5] == ["Ferry row", "Email", "First name", "Last name", "Company"]
    assert rows[0][-1].lower() == "error"
    assert len(rows) == 2 and rows[1][:2] == ["4", "not-an-email"]

    original = api.get(job["links"]["input"])
    assert b"".join(original.streaming_content) == CSV

    undone = api.post(job["links"]["undo"], {}, format="json")
    assert undone.status_code == 200, undone.json()
    # The three contacts and the three accounts the import created for them.
    assert undone.json()["deleted"] == 6
    assert undone.json()["job"]["summary"]["undo"]["deleted"] == 6
    assert Contact.objects.filter(organization=org).count() == 0
    assert Account.objects.filter(organization=org).count() == 0
    again = api.post(job["links"]["undo"], {}, format="json")
    assert again.status_code == 400
    assert "already been undone" in again.json()["error"]


def test_it_exports_xlsx_and_downloads_it(org, owner, huey_consumer):
    for n in range(5):
        ContactFactory(organization=org, email=f"person{n}@example.com", first_name=f"P{n}")
    ContactFactory(organization=org, email="formula@example.com", first_name="=1+1")
    api = token_client(make_token(owner, org))
    response = api.post(
        "/api/v1/contacts/export/",
        {"format": "xlsx", "columns": ["email", "first_name"], "filters": {"email": "example"}},
        format="json",
    )
    assert response.status_code == 202, response.json()
    job = poll(api, response.json()["url"])
    assert job["status"] == "completed", (job, huey_consumer.log_path.read_text())
    assert job["counts"]["processed"] == 6
    download = api.get(job["links"]["download"])
    assert download.status_code == 200
    assert ".xlsx" in download["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Email", "First name")
    assert sorted(r[0] for r in rows[1:]) == sorted(
        [f"person{n}@example.com" for n in range(5)] + ["formula@example.com"]
    )
    at = next(n for n, r in enumerate(rows, 1) if r[0] == "formula@example.com")
    # Written as it was typed, in a text cell: shown as is, never evaluated as a formula.
    assert sheet.cell(row=at, column=2).value == "=1+1"
    assert sheet.cell(row=at, column=2).data_type == "s"


def test_it_cancels_a_running_export_over_http(org, owner, huey_consumer):
    api = token_client(make_token(owner, org))
    response = api.post("/api/v1/contacts/export/", {"format": "csv"}, format="json")
    job_url = response.json()["url"]
    cancelled = api.post(f"{job_url}cancel/")
    assert cancelled.status_code == 200
    final = poll(api, job_url)
    # Either the cancel won before the worker started it, or the (empty) export finished first.
    assert final["status"] in ("cancelled", "completed")
    assert final["cancel_requested"] is True


def test_it_runs_a_report_and_downloads_the_pdf(org, manager, huey_consumer):
    from pypdf import PdfReader

    api = token_client(make_token(manager, org))
    response = api.post(
        "/api/v1/reports/inventory-valuation/export/", {"format": "pdf"}, format="json"
    )
    assert response.status_code == 202, response.json()
    job = poll(api, response.json()["url"], timeout=120)
    assert job["status"] == "completed", (job, huey_consumer.log_path.read_text())
    download = api.get(job["links"]["download"])
    assert download.status_code == 200
    pdf = PdfReader(io.BytesIO(b"".join(download.streaming_content)))
    assert "Inventory" in pdf.pages[0].extract_text()
