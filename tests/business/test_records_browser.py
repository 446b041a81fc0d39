"""The records pages in Chromium: browse, filter (htmx, URL kept), sort, page."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from business.demo import demo_seed
from business.models import Contact

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_browses_filters_sorts_and_pages_contacts(
    page, live_server, login, owner, org, screenshot_dir
):
    demo_seed(scale=1, seed=42, today=dt.date(2025, 6, 30))  # into the "demo" org of `owner`
    login(page, live_server, "owner")

    page.goto(f"{live_server.url}/records/")
    assert page.get_by_role("heading", level=1).inner_text() == "Records"
    contacts_row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Contacts"))
    assert "1,000" in contacts_row.inner_text()
    page.screenshot(path=str(screenshot_dir / "records-index.png"), full_page=True)

    page.get_by_role("link", name="Contacts", exact=True).click()
    page.wait_for_url("**/records/contacts/")
    assert page.get_by_role("heading", level=1).inner_text() == "Contacts"
    assert page.locator("table.records tbody tr").count() == 25

    expected = Contact.objects.filter(
        organization=org, lifecycle_stage="customer", account__name__icontains="north"
    ).count()
    assert expected > 0
    page.get_by_text("More filters").click()
    page.get_by_label("Account").fill("north")
    page.get_by_label("Customer", exact=True).check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r".*lifecycle_stage=customer.*"))
    count = page.locator(".records-count strong")
    page.wait_for_function(
        "n => document.querySelector('.records-count strong').textContent.replace(/,/g, '') == n",
        arg=str(expected),
    )
    assert count.inner_text().replace(",", "") == str(expected)
    for cell in page.locator("table.records tbody tr td:nth-child(4)").all_inner_texts():
        assert "north" in cell.lower()
    export = page.get_by_role("link", name=re.compile("^Export these"))
    assert "resource=contacts" in export.get_attribute("href")
    assert "lifecycle_stage=customer" in export.get_attribute("href")
    page.screenshot(path=str(screenshot_dir / "records-contacts-filtered.png"), full_page=True)

    # Sorting by a column keeps the filter.
    page.get_by_role("link", name="Last name").click()
    page.wait_for_url(re.compile(r".*sort=last_name.*"))
    names = page.locator("table.records tbody tr td:nth-child(3)").all_inner_texts()
    assert names == sorted(names)
    assert "lifecycle_stage=customer" in page.url

    # Paging through the unfiltered list.
    page.goto(f"{live_server.url}/records/contacts/?per_page=50")
    assert page.locator("table.records tbody tr").count() == 50
    page.get_by_role("link", name="Next ›").click()
    page.wait_for_url(re.compile(r".*page=2.*"))
    assert "Rows 51–100 of 1,000" in page.locator(".records-pagination").inner_text()


def test_it_shows_orders_and_variants_readably(
    page, live_server, login, owner, org, screenshot_dir
):
    demo_seed(scale=1, seed=42, today=dt.date(2025, 6, 30))
    login(page, live_server, "owner")

    page.goto(f"{live_server.url}/records/sales-orders/?status=invoiced&order_date_from=2025-05-01")
    assert page.get_by_role("heading", level=1).inner_text() == "Sales orders"
    # The first column is the documents' selection box (reports/documents).
    statuses = set(page.locator("table.records tbody tr td:nth-child(5)").all_inner_texts())
    assert statuses == {"Invoiced"}
    dates = page.locator("table.records tbody tr td:nth-child(4)").all_inner_texts()
    assert dates and min(dates) >= "2025-05-01"
    page.screenshot(path=str(screenshot_dir / "records-sales-orders.png"), full_page=True)

    page.goto(f"{live_server.url}/records/products/?q=-BE")
    skus = page.locator("table.records tbody tr td:nth-child(1)").all_inner_texts()
    parents = page.locator("table.records tbody tr td:nth-child(10)").all_inner_texts()
    assert skus and all(sku.endswith("-BE") for sku in skus)
    assert [sku.split("-")[0] for sku in skus] == parents
    page.screenshot(path=str(screenshot_dir / "records-products-variants.png"), full_page=True)
