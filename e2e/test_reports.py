"""Reports in a real browser: pick the sales report, filter it, run it as PDF, download it.

Chromium drives a live server while a real Huey consumer process renders the report.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from jobs.models import DataJob
from tests.factories import (
    CustomerFactory,
    SalesOrderFactory,
    SalesOrderLineFactory,
    WarehouseFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.consumer]


def test_it_runs_the_sales_report_as_pdf_and_downloads_it(
    page, live_server, login, manager, org, huey_consumer, screenshot_dir, tmp_path
):
    main = WarehouseFactory(organization=org, code="MAIN", name="Main warehouse")
    shop = WarehouseFactory(organization=org, code="SHOP", name="City store")
    customer = CustomerFactory(organization=org, code="C100", name="Harbour Café")
    for n, (warehouse, price) in enumerate(
        [(main, "1500.00"), (main, "250.25"), (shop, "9999.99")]
    ):
        order = SalesOrderFactory(
            customer=customer,
            number=f"SO-{n + 1:04d}",
            order_date=dt.date(2026, 4, 10 + n),
            warehouse=warehouse,
            status="invoiced",
        )
        SalesOrderLineFactory(
            order=order,
            quantity=Decimal("2"),
            unit_price=Decimal(price),
            unit_cost=Decimal("100.00"),
            tax=Decimal("10.00"),
        )

    login(page, live_server, "manager")
    page.goto(f"{live_server.url}/export/reports/")
    expect(page.get_by_role("heading", level=1, name="Reports")).to_be_visible()
    for name in ("Sales", "Customers & credit aging", "Inventory valuation", "Audit log"):
        expect(page.get_by_role("heading", level=2, name=name)).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "reports-list.png"), full_page=True)

    page.get_by_role("link", name="Run the Sales report").click()
    expect(page.get_by_role("heading", level=1, name="Sales")).to_be_visible()
    page.get_by_label("From", exact=True).fill("2026-04-01")
    page.get_by_label("To", exact=True).fill("2026-04-30")
    page.get_by_label("Warehouse or store").select_option("MAIN")
    page.get_by_label("Invoiced").check()
    page.get_by_label("PDF", exact=True).check()
    page.screenshot(path=str(screenshot_dir / "reports-sales-form.png"), full_page=True)
    page.get_by_role("button", name="Run report").click()

    expect(page).to_have_url(re.compile(r"/export/reports/sales/jobs/\d+/$"))
    expect(page.get_by_text("Warehouse or store: MAIN · Main warehouse")).to_be_visible()
    download_button = page.locator("#report-download")
    expect(download_button).to_be_visible(timeout=60_000)
    expect(page.locator("#report-status-text")).to_have_text("Completed")
    # Key figures arrive with the finished status, without a reload.
    expect(page.locator(".key-figures")).to_contain_text("3,500.50")
    page.screenshot(path=str(screenshot_dir / "reports-sales-done.png"), full_page=True)

    with page.expect_download() as info:
        download_button.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.suffix == ".pdf"

    pages = [p.extract_text() for p in PdfReader(target).pages]
    text = "\n".join(pages)
    assert pages[0].lstrip().startswith("Sales")
    assert "Summary" in pages[0] and "Page 1 of" in pages[0]
    # 2 × 1,500.00 + 2 × 250.25: the SHOP order is filtered out.
    assert "3,500.50" in text
    assert "SO-0001" in text and "SO-0002" in text and "SO-0003" not in text
    assert text.index("Summary") < text.index("Line Items")
    job = DataJob.objects.get(organization=org, target="sales")
    assert job.format == "pdf" and job.status == DataJob.Status.COMPLETED
    assert job.params["report_params"]["warehouse"] == "MAIN"

    # The generic job page knows the run and links back to the report's own page.
    page.get_by_role("link", name="Job details").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Job #{job.pk}")
    page.screenshot(path=str(screenshot_dir / "reports-sales-job-detail.png"), full_page=True)
    page.get_by_role("link", name="Open results").click()
    expect(page).to_have_url(re.compile(rf"/export/reports/sales/jobs/{job.pk}/$"))


LABELLED = """() => [...document.querySelectorAll('main input:not([type=hidden]), main select')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
  .map(el => el.name)"""


@pytest.mark.parametrize("report", ["sales", "customer-aging", "inventory-valuation", "audit-log"])
def test_it_shows_each_report_form_with_labelled_controls(
    page, live_server, login, manager, org, screenshot_dir, report
):
    CustomerFactory(organization=org, code="C1", name="Harbour Café")
    WarehouseFactory(organization=org, code="MAIN", name="Main warehouse")
    login(page, live_server, "manager")
    page.goto(f"{live_server.url}/export/reports/{report}/")
    expect(page.locator("h1")).to_have_count(1)
    assert page.evaluate(LABELLED) == []
    # Keyboard: the first filter takes focus from the tab order, the run button is reachable.
    page.get_by_role("button", name="Run report").focus()
    expect(page.get_by_role("button", name="Run report")).to_be_focused()
    page.screenshot(path=str(screenshot_dir / f"reports-{report}-form.png"), full_page=True)


def test_it_shows_filter_errors_next_to_the_fields(
    page, live_server, login, manager, org, screenshot_dir
):
    login(page, live_server, "manager")
    page.goto(f"{live_server.url}/export/reports/sales/")
    page.get_by_label("From", exact=True).fill("2026-05-01")
    page.get_by_label("To", exact=True).fill("2026-04-01")
    page.get_by_label("Customer code").fill("NOBODY")
    page.get_by_role("button", name="Run report").click()
    expect(
        page.get_by_text("No customer with the code 'NOBODY' in this organization.")
    ).to_be_visible()
    expect(
        page.get_by_text("The end date 2026-04-01 is before the start date 2026-05-01.")
    ).to_be_visible()
    expect(page.get_by_label("Customer code")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(screenshot_dir / "reports-sales-errors.png"), full_page=True)
    assert not DataJob.objects.exists()
