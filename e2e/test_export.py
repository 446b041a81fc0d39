"""The export builder in a real browser: filter, pick and order two columns, export to XLSX,
wait for the worker, download the file and read it with openpyxl."""

from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from jobs.models import DataJob
from tests.factories import AccountFactory, ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.consumer]


def test_it_builds_and_downloads_a_filtered_xlsx_export(
    page, live_server, login, manager, org, other_org, huey_consumer, screenshot_dir, tmp_path
):
    harbour = AccountFactory(organization=org, name="Harbour Freight")
    for n in range(8):
        ContactFactory(
            organization=org,
            email=f"buyer{n}@harbour.example",
            first_name=f"Buyer{n}",
            last_name=f"Harbour{n}",
            lifecycle_stage="customer" if n % 2 == 0 else "lead",
            account=harbour,
        )
    ContactFactory(organization=other_org, email="spy@rival.example", lifecycle_stage="customer")

    login(page, live_server, "manager")
    page.goto(f"{live_server.url}/export/?resource=contacts")
    expect(page.get_by_role("heading", level=1, name="Export records")).to_be_visible()
    preview = page.locator("#export-preview")
    expect(preview.locator(".count")).to_have_text("8")

    # Filter: customers only; the live count follows without a reload.
    page.get_by_role("checkbox", name="Customer").check()
    expect(preview.locator(".count")).to_have_text("4")

    # Columns: only Last name and Email, with Email moved below Last name by keyboard.
    columns = page.locator("#column-list")
    for box in columns.get_by_role("checkbox").all():
        box.uncheck()
    columns.get_by_role("checkbox", name="Email").check()
    columns.get_by_role("checkbox", name="Last name").check()
    email_down = page.get_by_role("button", name="Move Email down")
    email_down.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # focus stays on the moved row's button
    expect(columns.locator("li").nth(1)).to_have_attribute("data-name", "last_name")
    expect(columns.locator("li").nth(2)).to_have_attribute("data-name", "email")
    names = columns.locator("li").evaluate_all("els => els.map(e => e.dataset.name)")
    checked = [n for n in names if n in ("email", "last_name")]
    assert checked == ["last_name", "email"]
    expect(preview.locator("thead th")).to_have_text(["Last name", "Email"])

    page.get_by_role("radio", name="Excel (XLSX)").check()
    page.screenshot(path=str(screenshot_dir / "export-builder.png"), full_page=True)

    page.get_by_role("button", name="Export", exact=True).click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    job = DataJob.objects.get(organization=org, job_type=DataJob.Type.EXPORT)
    expect(page.locator("#job-status-text")).to_have_text("Completed", timeout=60_000)
    page.reload()
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("Output|Download|Result", re.I)).first.click()
    path = tmp_path / "export.xlsx"
    info.value.save_as(path)
    page.screenshot(path=str(screenshot_dir / "export-job.png"), full_page=True)

    ws = load_workbook(path).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0] == ["Last name", "Email"]
    assert ws["A1"].font.bold and ws.freeze_panes == "A2"
    assert sorted(rows[1:]) == [[f"Harbour{n}", f"buyer{n}@harbour.example"] for n in (0, 2, 4, 6)]
    job.refresh_from_db()
    assert job.params["filters"] == {"lifecycle_stage": ["customer"]}


def test_it_saves_an_export_template_and_reruns_it_from_the_list(
    page, live_server, login, owner, org, huey_consumer, screenshot_dir
):
    for n in range(5):
        ContactFactory(organization=org, email=f"lead{n}@quay.example", lifecycle_stage="lead")
    ContactFactory(organization=org, email="client@quay.example", lifecycle_stage="customer")

    login(page, live_server, "owner")
    page.goto(f"{live_server.url}/export/?resource=contacts&lifecycle_stage=lead&format=csv")
    expect(page.locator("#export-preview .count")).to_have_text("5")
    expect(page.get_by_role("radio", name="CSV")).to_be_checked()
    page.locator("summary", has_text="Save as template").click()
    page.get_by_label("Template name").fill("Weekly leads")
    page.get_by_role("checkbox", name="Share with the whole organization").check()
    page.get_by_role("button", name="Save template").click()
    expect(page.get_by_text("Saved the export template 'Weekly leads'.")).to_be_visible()
    aside = page.locator(".export-templates")
    expect(aside).to_contain_text("Weekly leads")
    expect(aside).to_contain_text("Shared")
    page.screenshot(path=str(screenshot_dir / "export-templates.png"), full_page=True)

    aside.get_by_role("button", name="Run Weekly leads").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator("#job-status-text")).to_have_text("Completed", timeout=60_000)
    job = DataJob.objects.get(organization=org, job_type=DataJob.Type.EXPORT)
    assert job.format == "csv" and job.params["template_name"] == "Weekly leads"
    assert job.summary["rows"] == 5
