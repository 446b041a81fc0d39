"""The engine's per-row bookkeeping: keys, repeats and matching existing records, in the cases
its fast paths must treat exactly like the general ones."""

from __future__ import annotations

from business.models import Product
from tests.wizard.test_engine import run_import

PRODUCT_HEADERS = ["SKU", "Product name", "Unit cost", "Active", "Attributes"]


def test_it_finds_an_existing_record_unchanged_whatever_its_field_types(org, owner, tmp_path):
    # A JSON object, a decimal and a boolean read back from the database compare equal to the
    # same values parsed from the file (on PostgreSQL JSON comes back as text unless converted).
    rows = [PRODUCT_HEADERS, ["P-1", "Widget", "2.50", "yes", '{"grade": "A", "sizes": [1, 2]}']]
    first = run_import(org, owner, "products", tmp_path, rows, on_duplicate="update")
    assert (first.summary["created"], first.summary["failed"]) == (1, 0)
    again = run_import(org, owner, "products", tmp_path, rows, on_duplicate="update")
    assert again.summary["updated"] == 0
    assert again.summary["unchanged"] == 1
    product = Product.objects.get(organization=org, sku="P-1")
    assert product.attributes == {"grade": "A", "sizes": [1, 2]}
