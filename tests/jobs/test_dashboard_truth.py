"""The jobs pages tell the truth: no previews or drafts as jobs, honest outcomes, labels,
readable summaries, and whether a worker is alive (issue 14, "Jobs")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jobs.heartbeat import HEARTBEAT
from jobs.models import DataJob, WorkerHeartbeat
from jobs.selectors import job_summary_items

Status = DataJob.Status


def row_html(html: str, job: DataJob) -> str:
    start = html.index(f'id="job-{job.pk}"')
    return html[start : html.index("</tr>", start)]


def test_it_lists_neither_previews_nor_drafts_as_jobs(owner_client, org, owner, make_job):
    run = make_job(org, owner, status=Status.COMPLETED, input_filename="people.csv")
    preview = make_job(
        org, owner, status=Status.COMPLETED, params={"dry_run": True, "preview_for": run.pk}
    )
    cli_dry_run = make_job(org, owner, status=Status.COMPLETED, params={"dry_run": True})
    draft = make_job(org, owner, status=Status.PENDING, input_filename="later.csv")
    html = owner_client.get(reverse("jobs:dashboard")).content.decode()
    assert f'id="job-{run.pk}"' in html
    for hidden in (preview, cli_dry_run, draft):
        assert f'id="job-{hidden.pk}"' not in html
    assert "Pending" not in html and "Not started yet" not in html
    # The draft is one click away, in the wizard's own list.
    assert "You have 1 unfinished import" in html
    assert reverse("wizard:drafts") in html
    overview = owner_client.get(
        reverse("jobs:dashboard"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="jobs-overview"
    ).content.decode()
    assert overview.count('<div class="value">1</div>') == 1  # the run, not its preview


@pytest.mark.parametrize(
    ("fields", "label", "tone"),
    [
        ({"status": Status.COMPLETED, "processed": 10, "succeeded": 10}, "Completed", "completed"),
        (
            {"status": Status.COMPLETED, "processed": 10, "succeeded": 7, "failed": 3},
            "Completed with 3 failed rows",
            "warning",
        ),
        (
            {"status": Status.COMPLETED, "processed": 1036, "failed": 1036},
            "All rows failed (1,036)",
            "failed",
        ),
        ({"status": Status.FAILED}, "Failed", "failed"),
        (
            {"status": Status.FAILED, "failed": 2, "summary": {"rolled_back": True}},
            "Rolled back",
            "failed",
        ),
        ({"status": Status.CANCELLED}, "Cancelled", "cancelled"),
    ],
)
def test_it_shows_an_honest_outcome(owner_client, org, owner, make_job, fields, label, tone):
    job = make_job(org, owner, **fields)
    assert (job.outcome.label, job.outcome.tone) == (label, tone)
    html = owner_client.get(reverse("jobs:dashboard")).content.decode()
    assert f'<span class="badge {tone}">{label}</span>' in row_html(html, job)
    page = owner_client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert f'id="job-status-text">{label}</span>' in page


def test_it_shows_the_file_and_the_targets_label(owner_client, org, owner, make_job):
    imported = make_job(
        org,
        owner,
        status=Status.COMPLETED,
        target="contacts",
        target_label="Contacts",
        input_filename="Leads März.csv",
    )
    report = make_job(
        org,
        owner,
        job_type=DataJob.Type.REPORT,
        target="inventory-valuation",
        status=Status.COMPLETED,
        output_filename="inventory-valuation.pdf",
    )
    html = owner_client.get(reverse("jobs:dashboard")).content.decode()
    assert "<th" in html and ">File<" in html
    assert "Leads März.csv" in row_html(html, imported)
    # Older jobs without a stored label still read as words.
    assert "Inventory valuation" in row_html(html, report)
    assert "inventory-valuation.pdf" in row_html(html, report)
    assert ">inventory-valuation<" not in html
    assert '<option value="inventory-valuation">Inventory valuation</option>' in html


def test_it_shows_an_imports_summary_with_human_labels_and_nothing_empty(
    owner_client, org, owner, make_job
):
    job = make_job(
        org,
        owner,
        status=Status.COMPLETED,
        target="contacts",
        summary={
            "resource": "contacts",
            "mode": "skip-invalid",
            "on_duplicate": "update",
            "dry_run": False,
            "rolled_back": False,
            "total": 120,
            "created": 100,
            "updated": 0,
            "skipped": 0,
            "unchanged": 0,
            "failed": 20,
            "warnings": 0,
            "would_create": 100,
            "would_update": 0,
            "invalid": 20,
            "unresolved": {},
            "references_created": {"accounts": 3},
            "date_formats": {},
            "errors": [{"row": 2, "column": "Email", "value": "x", "message": "bad"}] * 20,
        },
    )
    items = {i.label: i for i in job_summary_items(job=job)}
    assert items["Created"].value == "100"
    assert items["Rows with errors"].value == "20"
    assert items["Mode"].value == "Skip invalid rows"
    assert items["Existing records"].value == "Update existing records"
    assert [(c.label, c.value) for c in items["Missing records created"].children] == [
        ("Accounts", "3")
    ]
    for hidden in ("Would create", "Unresolved", "Date formats", "Errors", "Updated", "Dry run"):
        assert hidden not in items
    page = owner_client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    for raw in ("Would create", "Unresolved", "Date formats", "100 items", "20 items"):
        assert raw not in page


def test_it_says_no_worker_is_running_when_none_beats(
    owner_client, org, django_capture_on_commit_callbacks
):
    html = owner_client.get(reverse("jobs:dashboard")).content.decode()
    assert "No worker running" in html
    with django_capture_on_commit_callbacks(execute=False):
        response = owner_client.post(reverse("jobs:worker_check"), follow=True)
    text = response.content.decode()
    assert "No worker is running" in text and "manage.py run_huey" in text


def test_it_says_a_worker_is_alive_from_its_heartbeat(
    owner_client, org, django_capture_on_commit_callbacks
):
    WorkerHeartbeat.objects.create(name="box:1", hostname="box", pid=1)
    WorkerHeartbeat.objects.create(
        name="box:2", hostname="box", pid=2, seen_at=timezone.now() - timedelta(hours=1)
    )
    html = owner_client.get(reverse("jobs:dashboard")).content.decode()
    assert "Worker running" in html and "1 worker alive" in html
    with django_capture_on_commit_callbacks(execute=False):
        response = owner_client.post(reverse("jobs:worker_check"), follow=True)
    assert "1 worker is running" in response.content.decode()


def test_it_lets_the_heartbeat_registry_stay_quiet_outside_workers():
    # Tests and web processes are no workers: nothing is beating for them.
    assert HEARTBEAT._worker is False


def test_it_counts_a_run_where_every_row_failed_as_failed(owner_client, org, owner, make_job):
    make_job(org, owner, status=Status.COMPLETED, processed=9, failed=9)
    make_job(org, owner, status=Status.COMPLETED, processed=9, succeeded=9)
    from jobs.selectors import jobs_overview

    overview = jobs_overview(jobs=DataJob.objects.all())
    assert (overview["completed"], overview["failed"]) == (1, 1)


def test_it_titles_a_job_page_with_the_targets_label(owner_client, org, owner, make_job):
    report = make_job(
        org,
        owner,
        job_type=DataJob.Type.REPORT,
        target="customer-aging",
        target_label="Customer credit aging",
        status=Status.COMPLETED,
    )
    imported = make_job(
        org, owner, target="sales-orders", target_label="Sales orders", status=Status.COMPLETED
    )
    page = owner_client.get(reverse("jobs:detail", args=[report.pk])).content.decode()
    assert "Report: Customer credit aging" in page
    page = owner_client.get(reverse("jobs:detail", args=[imported.pk])).content.decode()
    assert "Import of sales orders" in page


def test_it_stores_the_label_of_a_report_on_its_job(org, manager):
    from reports.exporters import export_create

    job = export_create(
        organization=org, user=manager, exporter="inventory-valuation", format="pdf", params={}
    )
    assert (job.target, job.target_label) == ("inventory-valuation", "Inventory valuation")
