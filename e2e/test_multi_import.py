"""One sales export, several record types, in the browser: from the import start page to the
proposed targets with their preview counts, then the import and its per-target report. A real
Huey consumer runs the preview and the import while the page shows each target's progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from business.models import Customer, SalesOrder
from tests.wizard.test_multi_import import ORDERS, _export

pytestmark = [pytest.mark.browser, pytest.mark.consumer]

SHOTS = Path("/tmp/ferry-multi-shots")


@pytest.fixture
def media(settings, tmp_path):
    """Set before the consumer starts, so the worker reads the files the server stores."""
    settings.MEDIA_ROOT = tmp_path / "media"


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_it_imports_a_sales_export_as_several_types(
    page, live_server, login, member, org, media, huey_consumer, tmp_path
):
    SHOTS.mkdir(exist_ok=True)
    path = tmp_path / "sales-export.csv"
    expected = _export(path, lines=700)
    login(page, live_server, "member")

    page.goto(f"{live_server.url}/import/")
    page.get_by_role("link", name="A file with several record types").click()
    page.set_viewport_size({"width": 390, "height": 900})
    page.screenshot(path=str(SHOTS / "upload-390.png"), full_page=True)
    assert no_sideways_scroll(page), "the upload page scrolls sideways at 390 px"
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url("**/import/several/*/")

    # The worker previews target after target; the page then reloads with the counts.
    targets = page.locator("#multi-targets > li")
    expect(targets).to_have_count(3, timeout=90_000)
    assert [t.get_attribute("data-target") for t in targets.all()] == [
        "customers",
        "products",
        "sales-orders",
    ]
    counts = page.locator('[data-counts="sales-orders"] [data-count="would_create"]')
    expect(counts).to_have_text(str(ORDERS))
    assert not Customer.objects.exists()
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"preview-{width}.png"), full_page=True)
        assert no_sideways_scroll(page), f"the preview scrolls sideways at {width} px"

    page.get_by_role("button", name="Import", exact=True).click()
    progress = page.locator("#multi-progress-targets > li")
    if progress.count():
        # Caught on its way: every target listed, in the order they are imported.
        assert [t.get_attribute("data-target") for t in progress.all()] == [
            "customers",
            "products",
            "sales-orders",
        ]
    expect(page.get_by_role("link", name="Undo this import")).to_be_visible(timeout=90_000)
    expect(page.locator('[data-counts="customers"] [data-count="created"]')).to_have_text(
        str(expected["customers"])
    )
    page.screenshot(path=str(SHOTS / "done-390.png"), full_page=True)
    assert no_sideways_scroll(page)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=str(SHOTS / "done-1366.png"), full_page=True)
    assert SalesOrder.objects.filter(organization=org).count() == ORDERS
