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
