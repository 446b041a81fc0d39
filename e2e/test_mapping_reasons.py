"""The mapping page in a real browser: reasons in words, used fields marked, a field twice refused.

A 3,000-row ERP product export: "Internal Reference" becomes the SKU with its reason, a column
of another system's numeric category IDs is left unmapped with the reason shown, and choosing
SKU a second time is marked at the dropdown and refused by the server. Screenshots at 1366 px
and 390 px wide are written to /tmp.
"""

from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import expect

from jobs.models import DataJob
from tests.factories import ProductCategoryFactory

pytestmark = [pytest.mark.browser]


def test_it_shows_reasons_and_marks_used_fields(page, live_server, login, member, org, tmp_path):
    ProductCategoryFactory(organization=org, name="Bikes")
    path = tmp_path / "erp-products.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Internal Reference", "Name", "Regular price", "Sale price", "categoryID"])
        for n in range(3000):
            writer.writerow(
                [f"FURN_{7000 + n:05d}", f"Desk {n}", f"{100 + n % 50}.00", "80.00", n % 77]
            )

    login(page, live_server, "member")
    page.goto(f"{live_server.url}/import/?resource=products")
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Upload and continue").click()
    page.wait_for_url(re.compile(r"/import/\d+/map/$"))
    job = DataJob.objects.filter(job_type="import").latest("pk")

    expect(page.locator("#reason-0")).to_have_text("synonym")
    expect(page.locator("#why-0")).to_have_text(
        "header matches synonym 'Internal Reference'; 100 % of sampled values fit"
    )
    expect(page.locator("#why-3")).to_contain_text("Left unmapped")
    expect(page.locator("#why-4")).to_contain_text("another system's IDs")
    # Fields other columns use are marked in each list.
    name_select = page.get_by_label("Field for column Name")
    expect(name_select.locator("option[value=sku]")).to_have_text(
        "SKU * (used by 'Internal Reference')"
    )
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"/tmp/h11/map-{width}.png", full_page=True)

    # A field chosen twice: marked at once, refused by the server under the dropdown.
    page.set_viewport_size({"width": 1366, "height": 900})
    name_select.select_option("sku")
    expect(name_select).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#col-error-1")).to_contain_text(
        "'SKU' is already mapped from column 'Internal Reference'"
    )
    page.locator("#col-error-1").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/h11/map-refused-1366.png", full_page=False)
    job.refresh_from_db()
    assert job.params["mapping"]["Name"] == "name"
    name_select.select_option("name")
    expect(page.locator("#col-error-1")).to_be_empty()
    expect(name_select).not_to_have_attribute("aria-invalid", "true")
