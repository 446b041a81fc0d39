"""In Chromium against a live server and a real worker: create a weekly schedule for the sales
report as PDF + XLSX, run it now, see it in the history, download the file, read the mail."""

from __future__ import annotations

import io

import openpyxl
import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from reports.schedules.models import Schedule
from tests.reports.schedules.conftest import parts

pytestmark = [pytest.mark.browser, pytest.mark.consumer]
SHOTS = "/tmp/ferry-schedules"


def shoot(page, name: str) -> None:
    import pathlib

    pathlib.Path(SHOTS).mkdir(exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_it_schedules_the_sales_report_runs_it_now_and_mails_pdf_and_xlsx(
    smtp, page, live_server, login, manager, org, sales, huey_consumer, tmp_path
):
    login(page, live_server, "manager")
    page.goto(f"{live_server.url}/export/schedules/")
    page.get_by_role("link", name="New schedule").click()
    page.get_by_label("Name").fill("Monday sales")
    page.get_by_label("Report or export").select_option("sales")
    expect(page.locator('input[name="p-date_from"]')).to_be_visible()
    page.get_by_label("Period").select_option("last_month")
    page.get_by_label("PDF").check()
    page.get_by_label("Excel (XLSX)").check()
    page.get_by_label("Weekly").check()
    page.get_by_label("Monday").check()
    page.get_by_label("Time of day").fill("07:00")
    page.get_by_label("Time zone").fill("Europe/Zurich")
    page.get_by_label("Time zone").dispatch_event("change")
    expect(page.locator("#recurrence-summary")).to_contain_text(
        "Every Monday at 07:00 Europe/Zurich"
    )
    page.get_by_label("Recipients").fill("boss@example.com")
    shoot(page, "form")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.get_by_role("heading", name="Monday sales")).to_be_visible()
    schedule = Schedule.objects.get()
    assert schedule.formats == ["xlsx", "pdf"] and schedule.rrule.startswith("FREQ=WEEKLY;BYDAY=MO")

    page.get_by_role("button", name="Run now").click()
    expect(page.locator("#run-status .badge")).to_have_text("E-mailed", timeout=60_000)
    shoot(page, "run")
    page.get_by_role("link", name="Monday sales").click()
    history = page.locator("#history")
    expect(history.get_by_text("E-mailed")).to_be_visible()
    shoot(page, "detail")
    with page.expect_download() as info:
        history.get_by_role("link", name="PDF").click()
    path = tmp_path / "sales.pdf"
    info.value.save_as(path)
    assert "Sales" in "".join(p.extract_text() for p in PdfReader(path).pages)

    [msg] = smtp.wait(1)
    assert {"manager@example.com", "boss@example.com"} <= set(msg.envelope_to)
    body = parts(msg)
    assert body["html"] and body["text"]
    xlsx = next(v for k, v in body["attachments"].items() if k.endswith(".xlsx"))
    assert "Summary" in openpyxl.load_workbook(io.BytesIO(xlsx), read_only=True).sheetnames
    assert any(k.endswith(".pdf") for k in body["attachments"])

    page.goto(f"{live_server.url}/export/schedules/")
    expect(
        page.locator("#schedules-table").get_by_role("link", name="Monday sales")
    ).to_be_visible()
    shoot(page, "list")
    page.goto(f"{live_server.url}/export/schedules/notifications/")
    shoot(page, "notifications")
