"""The foundation in a real browser: log in, watch a job finish live, browse records, log out.

Chromium drives a live server while a real Huey consumer process runs the job.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from jobs.models import DataJob
from tests.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.consumer]


def test_it_runs_the_foundation_end_to_end(
    page, live_server, login, owner, org, huey_consumer, screenshot_dir
):
    for n in range(12):
        ContactFactory(organization=org, email=f"buyer{n}@harbour.example", last_name=f"Harbour{n}")
    ContactFactory(
        organization=org, email="grace@navy.example", first_name="Grace", last_name="Hopper"
    )

    login(page, live_server, "owner")
    expect(page).to_have_url(re.compile(r"/jobs/$"))
    expect(page.get_by_role("heading", level=1, name="Jobs")).to_be_visible()

    # An admin checks the worker: a job is queued and its row polls its status every second.
    page.get_by_role("button", name="Check the worker").click()
    expect(page.get_by_text("Worker check #")).to_be_visible()
    job = DataJob.objects.get(organization=org, target="worker-check")
    row = page.locator(f"#job-{job.pk}")
    expect(row).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "foundation-dashboard-running.png"), full_page=True)

    # No reload: the badge turns to Completed and the bar fills through htmx polling alone.
    page.evaluate("window.__notReloaded = true")
    status = row.locator(".job-status .badge")
    expect(status).to_have_text("Completed", timeout=30_000)
    expect(row.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    assert page.evaluate("window.__notReloaded") is True
    # Polling stopped: the finished fragment carries no trigger any more.
    expect(row.locator("[hx-trigger]")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "foundation-dashboard.png"), full_page=True)

    # The job page shows the counts and the summary.
    row.get_by_role("link", name=f"#{job.pk}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Job #{job.pk}")
    expect(page.locator("#job-status-text")).to_have_text("Completed")
    expect(page.locator("#job-live")).to_contain_text("20")
    page.screenshot(path=str(screenshot_dir / "foundation-job-detail.png"), full_page=True)

    # A records page, filtered through its form (GET parameters).
    page.goto(f"{live_server.url}/records/contacts/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    table = page.locator("table").first
    expect(table).to_contain_text("buyer0@harbour.example")
    page.get_by_label("Search").fill("grace@navy")
    page.get_by_role("button", name=re.compile("Apply filters|Filter")).click()
    expect(table).to_contain_text("grace@navy.example")
    expect(table).not_to_contain_text("buyer0@harbour.example")
    assert "grace" in page.url
    page.screenshot(path=str(screenshot_dir / "foundation-records-filtered.png"), full_page=True)

    # Log out: back to the login page, and the dashboard asks to log in again.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.goto(f"{live_server.url}/jobs/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/jobs/"))


def test_it_updates_the_job_page_live_and_cancels(
    page, live_server, login, owner, org, huey_consumer, screenshot_dir
):
    from jobs.tasks import worker_check_queue

    job = worker_check_queue(organization=org, user=owner, steps=400, delay=0.05)
    login(page, live_server, "owner")
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    expect(page.locator("#job-status-text")).to_have_text("Running", timeout=30_000)
    bar = page.locator("#job-live").get_by_role("progressbar")
    expect(bar).not_to_have_attribute("aria-valuenow", "0", timeout=15_000)
    page.screenshot(path=str(screenshot_dir / "foundation-job-running.png"), full_page=True)

    page.get_by_role("button", name="Cancel job").click()
    expect(page.locator("#job-status-text")).to_have_text("Cancelled", timeout=30_000)
    # Once finished, the page reloads its content in place: no cancel button any more.
    expect(page.get_by_role("button", name="Cancel job")).to_have_count(0)
    job.refresh_from_db()
    assert job.status == DataJob.Status.CANCELLED and job.processed < 400
