"""The jobs dashboard as a person sees it (issue 14, "Jobs"): no previews or drafts among the
jobs, an honest outcome badge, labels and file names, and whether a worker is alive."""

from __future__ import annotations

import time

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import expect

from jobs.models import DataJob, WorkerHeartbeat

pytestmark = pytest.mark.browser

SHOTS = "/tmp/ferry-jobs-shots"
Status = DataJob.Status


def job(org, user, **fields) -> DataJob:
    fields.setdefault("job_type", DataJob.Type.IMPORT)
    fields.setdefault("target", "contacts")
    fields.setdefault("target_label", "Contacts")
    if fields.get("status") in (Status.COMPLETED, Status.FAILED):
        fields.setdefault("started_at", timezone.now())
        fields.setdefault("finished_at", timezone.now())
    return DataJob.objects.create(organization=org, user=user, **fields)


def background(locator) -> str:
    return locator.evaluate("e => getComputedStyle(e).backgroundColor")


def test_it_shows_jobs_as_they_are(page, live_server, login, owner, org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    ok = job(
        org,
        owner,
        status=Status.COMPLETED,
        input_filename="customers-2026.csv",
        total=250,
        processed=250,
        succeeded=250,
    )
    all_failed = job(
        org,
        owner,
        status=Status.COMPLETED,
        input_filename="leads-broken.csv",
        total=1036,
        processed=1036,
        failed=1036,
    )
    partial = job(
        org,
        owner,
        status=Status.COMPLETED,
        input_filename="leads-mixed.csv",
        total=100,
        processed=100,
        succeeded=96,
        failed=4,
    )
    rolled_back = job(
        org,
        owner,
        status=Status.FAILED,
        input_filename="stock.xlsx",
        failed=3,
        summary={"rolled_back": True},
        error_message="Nothing was imported: 3 rows have errors.",
    )
    report = job(
        org,
        owner,
        job_type=DataJob.Type.REPORT,
        target="inventory-valuation",
        target_label="",
        status=Status.COMPLETED,
        output_filename="inventory-valuation-2026-11.pdf",
    )
    preview = job(
        org, owner, status=Status.COMPLETED, params={"dry_run": True, "preview_for": ok.pk}
    )
    draft = job(org, owner, status=Status.PENDING, input_filename="half-done.csv")
    draft.input_file.save("half-done.csv", ContentFile(b"Email\na@x.com\n"), save=True)

    login(page, live_server, "owner")
    page.goto(f"{live_server.url}/jobs/")
    expect(page.locator(f"#job-{ok.pk}")).to_be_visible()
    # Neither the preview nor the draft is a job.
    expect(page.locator(f"#job-{preview.pk}")).to_have_count(0)
    expect(page.locator(f"#job-{draft.pk}")).to_have_count(0)
    expect(page.locator(".jobs-table")).not_to_contain_text("Pending")

    # Outcomes as they are, colours to match.
    green = page.locator(f"#job-{ok.pk} .badge")
    expect(green).to_have_text("Completed")
    red = page.locator(f"#job-{all_failed.pk} .badge")
    expect(red).to_have_text("All rows failed (1,036)")
    expect(page.locator(f"#job-{partial.pk} .badge")).to_have_text("Completed with 4 failed rows")
    expect(page.locator(f"#job-{rolled_back.pk} .badge")).to_have_text("Rolled back")
    assert background(red) == background(page.locator(f"#job-{rolled_back.pk} .badge"))
    assert background(red) != background(green)
    amber = background(page.locator(f"#job-{partial.pk} .badge"))
    assert amber not in (background(red), background(green))

    # File names and labels, never identifiers.
    expect(page.locator(f"#job-{all_failed.pk}")).to_contain_text("leads-broken.csv")
    report_row = page.locator(f"#job-{report.pk}")
    expect(report_row).to_contain_text("Inventory valuation")
    expect(report_row).to_contain_text("inventory-valuation-2026-11.pdf")
    expect(page.get_by_role("columnheader", name="File")).to_be_visible()

    # No worker runs in this test: the page says so.
    expect(page.locator("#worker-state")).to_contain_text("No worker running")

    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=f"{SHOTS}/jobs-dashboard-1366.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=f"{SHOTS}/jobs-dashboard-390.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})

    # The draft waits in the wizard's unfinished imports: resume it, or discard it.
    page.get_by_role("link", name="Resume or discard it").click()
    expect(page.get_by_role("heading", level=1, name="Unfinished imports")).to_be_visible()
    row = page.locator(f"#draft-{draft.pk}")
    expect(row).to_contain_text("half-done.csv")
    expect(row.get_by_role("link", name="Resume")).to_have_attribute("href", f"/import/{draft.pk}/")
    page.screenshot(path=f"{SHOTS}/unfinished-imports-1366.png", full_page=True)
    row.get_by_text("Discard…").click()
    row.get_by_role("button", name="Discard with its file").click()
    expect(
        page.get_by_text("The unfinished import of half-done.csv was discarded.")
    ).to_be_visible()
    expect(page.locator(f"#draft-{draft.pk}")).to_have_count(0)
    assert not DataJob.objects.filter(pk=draft.pk).exists()


def test_it_shows_a_failed_imports_summary_in_words(page, live_server, login, owner, org):
    failed = job(
        org,
        owner,
        status=Status.COMPLETED,
        input_filename="leads-broken.csv",
        total=1036,
        processed=1036,
        failed=1036,
        summary={
            "resource": "contacts",
            "mode": "skip-invalid",
            "on_duplicate": "skip",
            "dry_run": False,
            "rolled_back": False,
            "total": 1036,
            "created": 0,
            "updated": 0,
            "failed": 1036,
            "would_create": 0,
            "invalid": 1036,
            "unresolved": {},
            "date_formats": {},
            "errors": [{"row": 2, "column": "Email", "value": "x", "message": "bad"}] * 100,
        },
    )
    login(page, live_server, "owner")
    page.goto(f"{live_server.url}/jobs/{failed.pk}/")
    expect(page.locator("#job-status-text")).to_have_text("All rows failed (1,036)")
    summary = page.locator(".summary-facts")
    expect(summary).to_contain_text("Rows with errors")
    expect(summary).to_contain_text("Skip invalid rows")
    for raw in ("Would create", "Unresolved", "Date formats", "100 items"):
        expect(summary).not_to_contain_text(raw)
    page.screenshot(path=f"{SHOTS}/job-detail-1366.png", full_page=True)


@pytest.mark.consumer
def test_it_tells_that_a_worker_is_alive(page, live_server, login, owner, org, huey_consumer):
    # The consumer process records itself once Django is set up in it (slow on a loaded machine).
    deadline = time.monotonic() + 120
    while not WorkerHeartbeat.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert WorkerHeartbeat.objects.exists(), "the consumer never recorded its heartbeat"
    login(page, live_server, "owner")
    page.goto(f"{live_server.url}/jobs/")
    expect(page.locator("#worker-state")).to_contain_text("Worker running")
    page.get_by_role("button", name="Check the worker").click()
    expect(page.get_by_text("1 worker is running")).to_be_visible()
    check = DataJob.objects.get(organization=org, target="worker-check")
    row = page.locator(f"#job-{check.pk}")
    expect(row).to_contain_text("Worker check")
    expect(row.locator(".badge")).to_have_text("Completed", timeout=30_000)
