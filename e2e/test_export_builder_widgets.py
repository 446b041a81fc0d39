"""The export builder's filters and options as a person meets them in a real browser: the right
widget per field type, CSV options only while CSV is chosen, and a wide preview that scrolls in
its own box instead of pushing the page sideways."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.factories import CustomerFactory, SalesOrderFactory, WarehouseFactory

pytestmark = pytest.mark.browser

SHOTS = "/tmp/ferry-builder"


@pytest.fixture
def orders(org, other_org):
    north = WarehouseFactory(organization=org, code="WH-NORTH", name="North")
    for n in range(6):
        SalesOrderFactory(
            organization=org,
            number=f"SO-{n}",
            customer=CustomerFactory(
                organization=org,
                code=f"C{n}",
                name=f"Customer {n}",
                credit_limit=Decimal("1000") * n,
                phone="+41 44 668 18 00",
            ),
            warehouse=north,
            order_date=dt.date(2026, 1, 10 + n),
            status="invoiced" if n % 2 else "confirmed",
        )
    CustomerFactory(organization=other_org, code="SPY", name="Rival")


def test_it_offers_a_widget_per_filter_type(page, live_server, login, manager, orders):
    login(page, live_server, "manager")
    page.goto(f"{live_server.url}/export/?resource=sales-orders")
    preview = page.locator("#export-preview")
    expect(preview.locator(".count")).to_have_text("6")

    # A date range: two date pickers side by side under one label.
    dates = page.get_by_role("group", name="Order date")
    expect(dates.locator("input[type=date]")).to_have_count(2)
    dates.get_by_label("From").fill("2026-01-12")
    dates.get_by_label("To").fill("2026-01-14")
    expect(preview.locator(".count")).to_have_text("3")

    # Choices are ticked, not typed; the preview shows their labels.
    status = page.get_by_role("group", name="Status")
    status.get_by_role("checkbox", name="Invoiced").check()
    expect(preview.locator(".count")).to_have_text("1")
    expect(preview.locator("tbody")).to_contain_text("Invoiced")

    # A reference is a searchable select over this organization's own records; text,
    # references and numbers wait under "More filters".
    page.locator("summary", has_text="More filters").click()
    customer = page.get_by_role("combobox", name="Customer code")
    list_id = customer.get_attribute("list")
    options = page.locator(f"datalist#{list_id} option")
    values = options.evaluate_all("els => els.map(e => e.value)")
    assert values == ["C0", "C1", "C2", "C3", "C4", "C5"]  # not the other organization's SPY
    customer.fill("C3")
    expect(preview.locator(".count")).to_have_text("1")
    page.screenshot(path=f"{SHOTS}-1366.png", full_page=True)

    # Numbers: at least / at most.
    page.goto(f"{live_server.url}/export/?resource=customers")
    page.locator("summary", has_text="More filters").click()
    limit = page.get_by_role("group", name="Credit limit")
    expect(limit.locator("input[type=number]")).to_have_count(2)
    limit.get_by_label("Min").fill("2000")
    limit.get_by_label("Max").fill("4000")
    expect(page.locator("#export-preview .count")).to_have_text("3")
    # Reopened with a filter in use, "More filters" shows it without a click.
    page.goto(f"{live_server.url}/export/?resource=customers&credit_limit_min=2000")
    expect(page.get_by_role("group", name="Credit limit").get_by_label("Min")).to_have_value("2000")


def test_it_shows_csv_options_only_while_csv_is_chosen(page, live_server, login, manager, orders):
    login(page, live_server, "manager")
    page.goto(f"{live_server.url}/export/?resource=customers")
    csv_options = page.locator("details.csv-options")
    expect(page.get_by_role("radio", name="Excel (XLSX)")).to_be_checked()
    expect(csv_options).to_be_hidden()
    page.get_by_role("radio", name="CSV").check()
    expect(csv_options).to_be_visible()
    page.get_by_role("radio", name="JSON", exact=True).check()
    expect(csv_options).to_be_hidden()
    expect(
        page.get_by_label("Write choices as codes (invoiced) instead of labels (Invoiced)")
    ).to_be_visible()


@pytest.mark.parametrize("width", [1366, 390])
def test_it_scrolls_a_wide_preview_inside_its_own_box(
    page, live_server, login, manager, orders, width
):
    page.set_viewport_size({"width": width, "height": 900})
    login(page, live_server, "manager")
    columns = "&".join(
        f"columns={c}"
        for c in [
            "code",
            "name",
            "customer_type",
            "email",
            "phone",
            "address",
            "postal_code",
            "city",
            "country",
            "credit_limit",
            "credit_status",
            "is_active",
        ]
    )
    page.goto(f"{live_server.url}/export/?resource=customers&{columns}")
    wrap = page.locator("#export-preview .table-wrap")
    expect(wrap.locator("tbody tr")).to_have_count(6)
    page.screenshot(path=f"{SHOTS}-preview-{width}.png", full_page=True)
    box = wrap.evaluate(
        "el => ({client: el.clientWidth, scroll: el.scrollWidth,"
        " right: el.getBoundingClientRect().right})"
    )
    # The table is wider than its box, which scrolls; the box itself stays on the screen.
    assert box["scroll"] > box["client"]
    assert box["right"] <= width
    # The last column is reachable by scrolling the box.
    wrap.scroll_into_view_if_needed()
    wrap.evaluate("el => el.scrollLeft = el.scrollWidth")
    expect(wrap.locator("thead th").last).to_be_in_viewport()
