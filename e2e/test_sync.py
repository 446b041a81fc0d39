"""The sync dashboard in a real browser: pick reels to import, sell one, write it back."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest

from tests.sync.conftest import in_stock_rows, reels_write


@pytest.fixture
def worker_sync_root(monkeypatch, settings):
    root = settings.BASE_DIR / "var" / f"sync-e2e-{os.getpid()}"
    monkeypatch.setenv("FERRY_SYNC_ROOT", str(root))
    settings.FERRY_SYNC_ROOT = root
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_it_imports_selected_reels_and_writes_back_a_sale(
    worker_sync_root, huey_consumer, live_server, page, login, org, owner
):
    from business.models import Customer, Product, SalesOrder, SalesOrderLine, Warehouse
    from tests.sync.conftest import connection_make

    path = reels_write(worker_sync_root / "shop" / "inventory.sqlite3", in_stock_rows(30))
    for code in ("WH-MAIN", "WH-NORTH", "WH-SOUTH"):
        Warehouse.objects.create(organization=org, code=code, name=code)
    conn = connection_make(org)
    login(page, live_server, "owner")
    page.goto(f"{live_server.url}/sync/")
    page.get_by_role("link", name="Choose items to import").click()
    page.get_by_label("Search").fill("R024003")
    page.wait_for_function("document.querySelectorAll('#available input[name=key]').length === 1")
    page.get_by_label("Import R024003").check()
    page.get_by_role("button", name="Import selected").click()
    page.wait_for_selector("text=queued as job")
    for _ in range(100):
        if Product.objects.filter(organization=org, sku="R024003").exists():
            break
        page.wait_for_timeout(200)
    product = Product.objects.get(organization=org, sku="R024003")
    assert Product.objects.filter(organization=org).count() == 1
    page.reload()
    page.wait_for_selector("#available .badge.ok")
    customer = Customer.objects.create(organization=org, code="C1", name="C")
    order = SalesOrder.objects.create(
        organization=org,
        number="SO-9",
        customer=customer,
        order_date="2026-11-01",
        status="invoiced",
    )
    SalesOrderLine.objects.create(
        organization=org, order=order, line_number=1, product=product, quantity=1, unit_price=5
    )
    page.get_by_role("button", name="Write back sold items").click()
    page.wait_for_selector("text=queued as job")
    for _ in range(100):
        db = sqlite3.connect(path)
        status = db.execute("SELECT status FROM inventory WHERE reel_number='R024003'").fetchone()[
            0
        ]
        db.close()
        if status == "Sold":
            break
        page.wait_for_timeout(200)
    assert status == "Sold"
    page.goto(f"{live_server.url}/sync/{conn.pk}/")
    page.get_by_role("link", name="ago").first.click() if page.get_by_role(
        "link", name="ago"
    ).count() else None
    shots = os.environ.get("SYNC_SCREENSHOTS")
    if shots:
        for width in (1366, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{live_server.url}/sync/")
            page.screenshot(path=f"{shots}/sync-dashboard-{width}.png", full_page=True)
            page.goto(f"{live_server.url}/sync/{conn.pk}/")
            page.screenshot(path=f"{shots}/sync-detail-{width}.png", full_page=True)


def test_it_edits_the_mapping_in_the_browser_and_syncs_with_it(
    worker_sync_root, huey_consumer, live_server, page, login, org, owner
):
    from business.models import Product, Warehouse
    from tests.sync.conftest import connection_make, external_rows

    path = reels_write(worker_sync_root / "shop" / "inventory.sqlite3", in_stock_rows(8))
    for code in ("WH-MAIN", "WH-NORTH", "WH-SOUTH"):
        Warehouse.objects.create(organization=org, code=code, name=code)
    conn = connection_make(org)
    login(page, live_server, "owner")
    page.goto(f"{live_server.url}/sync/{conn.pk}/")
    page.get_by_role("link", name="Edit mapping").click()
    page.wait_for_selector("#mapping-preview-table")
    # width → unit cost, × 0.5; a field mapped twice is refused with a clear message first.
    page.get_by_label("Ferry field for width").select_option("unit_cost")
    page.get_by_label("Ferry field for comments").select_option("category")
    # The preview shows the same message as soon as the select changes; wait for the save's own
    # answer, which re-renders the form: edits made before it lands would be replaced.
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith(f"/sync/{conn.pk}/mapping/")
    ):
        page.get_by_role("button", name="Save mapping").click()
    page.wait_for_selector("#mapping-error >> text=are both mapped to 'category'")
    page.get_by_label("Ferry field for comments").select_option("description")
    page.get_by_label("Transform of width").select_option("multiply")
    page.get_by_label("Parameter of width's transform").fill("0.5")
    page.get_by_label("Transform of profile_name").select_option("value_map")
    page.get_by_label("Parameter of profile_name's transform").fill("Standard=STD; Export=EXP")
    page.get_by_label("Order invoiced").fill("Sold by Ferry")
    rows = external_rows(path)
    first = sorted(rows)[0]
    half = rows[first]["width"] * 0.5
    # Each edit above asks for a preview; a newer request replaces the one in flight (hx-sync), so
    # the table ends up showing the last edit's answer.
    page.wait_for_function(
        "t => document.querySelector('#mapping-preview-table')?.textContent.includes(t)",
        arg=f"{half:g}",
        timeout=60_000,
    )
    shots = os.environ.get("SYNC_SCREENSHOTS")
    if shots:
        for width in (1366, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=f"{shots}/sync-mapping-{width}.png", full_page=True)
        page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_role("button", name="Save mapping").click()
    page.wait_for_selector("text=Mapping saved")
    conn.refresh_from_db()
    assert conn.mapping["width"] == "unit_cost"
    assert conn.transforms["width"] == {"multiply": "0.5"}
    assert ["invoiced", "Sold by Ferry"] in conn.sold_statuses
    page.get_by_role("button", name="Sync now").click()
    page.wait_for_selector("text=queued as job")
    for _ in range(150):
        if Product.objects.filter(organization=org).count() == 8:
            break
        page.wait_for_timeout(200)
    product = Product.objects.get(organization=org, sku=first)
    assert float(product.unit_cost) == pytest.approx(half)
    assert product.description == (rows[first]["comments"] or "")
    assert product.attributes["profile_name"] in ("STD", "EXP", "Heavy duty", "Food grade")
