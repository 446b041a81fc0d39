"""Documents in a real browser: print one invoice from an order's row, then a batch of 50.

Chromium drives a live server while a real Huey consumer process renders the batch.
"""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.factories import CustomerFactory, SalesOrderFactory, SalesOrderLineFactory

pytestmark = [pytest.mark.browser, pytest.mark.consumer]
SHOTS = Path("/tmp/ferry-documents-shots")


def test_it_prints_one_invoice_and_a_batch_of_fifty(
    page, live_server, login, manager, org, huey_consumer, tmp_path
):
    SHOTS.mkdir(exist_ok=True)
    customer = CustomerFactory(organization=org, code="C100", name="Harbour Café")
    for n in range(50):
        order = SalesOrderFactory(customer=customer, number=f"SO-{n + 1:04d}", status="invoiced")
        SalesOrderLineFactory(
            order=order,
            quantity=Decimal("3"),
            unit_price=Decimal("10.50"),
            discount=Decimal("1.50"),
            tax=Decimal("6.00"),
            tax_rate=Decimal("20"),
        )

    login(page, live_server, "manager")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/records/sales-orders/?per_page=50&sort=number")
    expect(page.get_by_role("heading", level=1, name="Sales orders")).to_be_visible()

    # One order: the row's PDF menu.
    page.get_by_label("PDF documents for order SO-0001").click()
    page.screenshot(path=str(SHOTS / "orders-row-menu-1366.png"))
    with page.expect_download() as info:
        page.locator("details[open] .pdf-menu-list").get_by_role("link", name="Invoice").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.name == "invoice-SO-0001.pdf"
    text = PdfReader(target).pages[0].extract_text()
    # 3 × 10.50 = 31.50, less 1.50 = 30.00 net, 6.00 tax
    assert "£30.00" in text and "£36.00" in text and "Page 1 of 1" in text

    # Fifty: the batch panel, every order the (empty) filters match, one PDF each in a ZIP.
    page.keyboard.press("Escape")
    page.get_by_text("PDF documents", exact=True).click()
    page.get_by_label("Document", exact=True).select_option("invoice")
    page.get_by_label("One PDF per order, in a ZIP").check()
    page.screenshot(path=str(SHOTS / "orders-batch-panel-1366.png"))
    page.get_by_role("button", name="Print all 50 orders").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    link = page.locator("a[download][href*='/download/output/']")
    expect(link).to_be_visible(timeout=180_000)
    # The job is named for people ("Export of invoices"), not by its identifier.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Export of invoices")
    page.screenshot(path=str(SHOTS / "documents-job-done-1366.png"), full_page=True)
    with page.expect_download() as info:
        link.click()
    archive_path = tmp_path / info.value.suggested_filename
    info.value.save_as(archive_path)
    with zipfile.ZipFile(archive_path) as archive:
        names = sorted(archive.namelist())
        assert names == [f"invoice-SO-{n + 1:04d}.pdf" for n in range(50)]
        last = PdfReader(io.BytesIO(archive.read(names[-1])))
        assert "£36.00" in last.pages[0].extract_text()

    page.goto(f"{live_server.url}/jobs/")
    expect(page.get_by_role("cell", name="Invoices", exact=True)).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/records/sales-orders/")
    page.screenshot(path=str(SHOTS / "orders-page-390.png"), full_page=True)
    # At phone width the table scrolls in its own box (the page does not scroll sideways) and
    # the PDF column is reached by scrolling it; its menu opens and downloads.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    menu = page.get_by_label("PDF documents for order SO-0001")
    menu.scroll_into_view_if_needed()
    expect(menu).to_be_in_viewport()
    menu.click()
    item = page.locator("details[open] .pdf-menu-list").get_by_role("link", name="Delivery note")
    item.scroll_into_view_if_needed()
    expect(item).to_be_in_viewport()
    page.screenshot(path=str(SHOTS / "orders-row-menu-390.png"))
    with page.expect_download() as info:
        item.click()
    assert info.value.suggested_filename == "delivery-note-SO-0001.pdf"
