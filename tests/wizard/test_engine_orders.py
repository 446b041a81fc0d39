"""Orders with their lines in one file, product variants, and records referring to records
defined earlier in the same file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from business.models import Product, ProductCategory, SalesOrder, SalesOrderLine
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    SalesOrderFactory,
    SalesOrderLineFactory,
    WarehouseFactory,
)
from tests.wizard.test_engine import log_messages, media_in_tmp, run_import  # noqa: F401
from wizard.models import ImportChange
from wizard.services import import_undo

ORDER_HEADERS = ["Order No", "Customer", "Order date", "Status", "SKU", "Qty", "Price"]


@pytest.fixture
def catalog(org):
    CustomerFactory(organization=org, code="C1")
    CustomerFactory(organization=org, code="C2")
    WarehouseFactory(organization=org, code="WH1")
    for sku in ("P1", "P2", "P3"):
        ProductFactory(organization=org, sku=sku)


def lines_of(number: str) -> list[tuple]:
    return list(
        SalesOrderLine.objects.filter(order__number=number)
        .order_by("line_number")
        .values_list("line_number", "product__sku", "quantity", "unit_price")
    )


def test_it_imports_orders_with_lines_and_blank_continuation_rows(org, owner, tmp_path, catalog):
    job = run_import(
        org,
        owner,
        "sales-orders",
        tmp_path,
        [
            ORDER_HEADERS,
            ["SO-1", "C1", "2024-03-01", "Confirmed", "P1", "2", "10.00"],
            ["", "", "", "", "P2", "1", "5.50"],
            ["", "", "", "", "P3", "3", "1"],
            ["SO-2", "C2", "2024-03-02", "", "P1", "1", "10"],
        ],
    )
    assert job.status == "completed", job.error_message
    assert job.params["mapping"]["SKU"] == "product"
    assert job.params["mapping"]["Qty"] == "quantity"
    so1 = SalesOrder.objects.get(number="SO-1")
    assert (so1.customer.code, so1.order_date, so1.status) == (
        "C1",
        dt.date(2024, 3, 1),
        "confirmed",
    )
    assert lines_of("SO-1") == [
        (1, "P1", Decimal("2.000"), Decimal("10.00")),
        (2, "P2", Decimal("1.000"), Decimal("5.50")),
        (3, "P3", Decimal("3.000"), Decimal("1.00")),
    ]
    assert SalesOrder.objects.get(number="SO-2").status == "draft"
    s = job.summary
    assert (s["orders_created"], s["lines_created"], s["created"], s["failed"]) == (2, 4, 4, 0)


def test_it_imports_orders_whose_header_fields_repeat_on_every_row(org, owner, tmp_path, catalog):
    job = run_import(
        org,
        owner,
        "sales-orders",
        tmp_path,
        [
            ["Order No", "Customer", "Order date", "Line", "SKU", "Qty", "Price"],
            ["SO-1", "C1", "2024-03-01", "10", "P1", "2", "10"],
            ["SO-1", "C1", "2024-03-01", "20", "P2", "1", "5"],
            ["SO-1", "C2", "2024-03-01", "30", "P3", "1", "5"],
        ],
    )
    assert log_messages(job) == [
        "Row 2: order 'SO-1' was not imported because row 4 has errors",
        "Row 3: order 'SO-1' was not imported because row 4 has errors",
        "Row 4, column 'Customer': differs from row 2 of the same order ('C1')",
    ]
    assert not SalesOrder.objects.exists()


def test_it_fails_a_whole_order_when_one_line_is_invalid(org, owner, tmp_path, catalog):
    job = run_import(
        org,
        owner,
        "sales-orders",
        tmp_path,
        [
            ORDER_HEADERS,
            ["SO-1", "C1", "2024-03-01", "", "P1", "2", "10"],
            ["", "", "", "", "NOPE", "1", "5"],
            ["SO-2", "C1", "2024-03-01", "", "P1", "1", "10"],
        ],
    )
    assert "Row 3, column 'SKU': no product with sku 'NOPE'" in log_messages(job)[1]
    assert list(SalesOrder.objects.values_list("number", flat=True)) == ["SO-2"]
    assert job.summary["failed"] == 2


def test_it_keeps_orders_whole_across_batches(org, owner, tmp_path, catalog, settings):
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 2}
    rows = [ORDER_HEADERS]
    for n in range(3):
        rows.append([f"SO-{n}", "C1", "2024-03-01", "", "P1", "1", "1"])
        rows.append(["", "", "", "", "P2", "1", "1"])
        rows.append(["", "", "", "", "P3", "1", "1"])
    job = run_import(org, owner, "sales-orders", tmp_path, rows)
    assert job.summary["failed"] == 0, log_messages(job)
    assert SalesOrderLine.objects.count() == 9
    assert lines_of("SO-2")[-1][:2] == (3, "P3")


def test_it_reports_an_order_split_apart_in_the_file(org, owner, tmp_path, catalog):
    job = run_import(
        org,
        owner,
        "sales-orders",
        tmp_path,
        [
            ORDER_HEADERS,
            ["SO-1", "C1", "2024-03-01", "", "P1", "1", "1"],
            ["SO-2", "C1", "2024-03-01", "", "P1", "1", "1"],
            ["SO-1", "C1", "2024-03-01", "", "P2", "1", "1"],
        ],
    )
    assert log_messages(job) == [
        "Row 4, column 'Order No': order 'SO-1' appears again, apart from its other rows "
        "(keep the rows of one order together, or it is a duplicate)"
    ]


def test_it_updates_an_existing_order_and_its_lines(org, owner, tmp_path, catalog):
    order = SalesOrderFactory(
        organization=org, customer__organization=org, number="SO-1", status="draft"
    )
    order.customer = CustomerFactory(organization=org, code="C9")
    order.save()
    SalesOrderLineFactory(
        order=order, line_number=1, product=Product.objects.get(sku="P1"), quantity=1
    )
    job = run_import(
        org,
        owner,
        "sales-orders",
        tmp_path,
        [
            ["Order No", "Customer", "Order date", "Status", "Line", "SKU", "Qty", "Price"],
            ["SO-1", "C9", order.order_date.isoformat(), "confirmed", "1", "P1", "5", "25.00"],
            ["SO-1", "C9", "", "confirmed", "2", "P2", "1", "3"],
        ],
        on_duplicate="update",
    )
    assert job.status == "completed", job.error_message
    order.refresh_from_db()
    assert order.status == "confirmed"
    assert lines_of("SO-1") == [
        (1, "P1", Decimal("5.000"), Decimal("25.00")),
        (2, "P2", Decimal("1.000"), Decimal("3.00")),
    ]
    assert (
        job.summary["orders_updated"],
        job.summary["lines_updated"],
        job.summary["lines_created"],
    ) == (1, 1, 1)
    result = import_undo(job=job, user=owner)
    assert (result.deleted, result.restored) == (1, 2)
    order.refresh_from_db()
    assert order.status == "draft"
    assert lines_of("SO-1") == [(1, "P1", Decimal("1.000"), Decimal("25.00"))]


def test_it_skips_existing_orders_and_refuses_create_new(org, owner, tmp_path, catalog):
    SalesOrderFactory(organization=org, customer=CustomerFactory(organization=org), number="SO-1")
    rows = [
        ORDER_HEADERS,
        ["SO-1", "C1", "2024-03-01", "", "P1", "1", "1"],
        ["", "", "", "", "P2", "1", "1"],
    ]
    job = run_import(org, owner, "sales-orders", tmp_path, rows)
    assert (job.summary["skipped"], SalesOrderLine.objects.count()) == (2, 0)
    job = run_import(org, owner, "sales-orders", tmp_path, rows, on_duplicate="create")
    assert log_messages(job)[0] == (
        "Row 2, column 'Order No': a sales order with this number already exists, and numbers "
        "must be unique, so a new one cannot be created (choose skip or update)"
    )


def test_it_undoes_an_orders_import_lines_first(org, owner, tmp_path, catalog):
    job = run_import(
        org,
        owner,
        "sales-orders",
        tmp_path,
        [
            ORDER_HEADERS,
            ["SO-1", "C1", "2024-03-01", "", "P1", "1", "1"],
            ["", "", "", "", "P2", "1", "1"],
        ],
    )
    result = import_undo(job=job, user=owner)
    assert result.deleted == 3 and not result.conflicts
    assert not SalesOrder.objects.exists() and not SalesOrderLine.objects.exists()


def test_it_imports_plain_orders_without_lines(org, owner, tmp_path, catalog):
    job = run_import(
        org,
        owner,
        "sales-orders",
        tmp_path,
        [
            ["Order No", "Customer", "Order date", "Warehouse"],
            ["SO-1", "C1", "2024-03-01", "WH1"],
            ["SO-1", "C1", "2024-03-01", "WH1"],
        ],
    )
    assert SalesOrder.objects.get().warehouse.code == "WH1"
    # The same order twice, identically: one record ("repeats merged"), no failure.
    assert log_messages(job) == []
    assert (job.summary["created"], job.summary["repeats_merged"]) == (1, 1)


# --- products --------------------------------------------------------------------------------


def test_it_links_variant_skus_to_their_parent(org, owner, tmp_path):
    ProductFactory(organization=org, sku="11400", name="Bike")
    job = run_import(
        org,
        owner,
        "products",
        tmp_path,
        [
            ["SKU", "Name"],
            ["11400-BE", "Bike beige"],
            ["20000", "Helmet"],
            ["20000-XL", "Helmet XL"],
            ["30000-RED", "Gloves red"],
            ["SKU-00001", "Not a variant"],
        ],
    )
    parents = dict(Product.objects.values_list("sku", "parent__sku"))
    assert parents["11400-BE"] == "11400"
    assert parents["20000-XL"] == "20000"
    assert parents["30000-RED"] is None
    assert parents["SKU-00001"] is None
    assert log_messages(job, "warning") == [
        "Row 5, column 'SKU': looks like a variant of '30000', but there is no product with that "
        "SKU; imported without a parent"
    ]


def test_it_creates_missing_parent_products_when_asked(org, owner, tmp_path):
    job = run_import(
        org,
        owner,
        "products",
        tmp_path,
        [["SKU", "Name"], ["30000-RED", "Gloves red"], ["30000-BLU", "Gloves blue"]],
        create_missing={"parent": True},
    )
    parent = Product.objects.get(sku="30000")
    assert parent.name == "Gloves red"
    assert set(Product.objects.filter(parent=parent).values_list("sku", flat=True)) == {
        "30000-RED",
        "30000-BLU",
    }
    assert job.summary["references_created"] == {"products": 1}
    import_undo(job=job, user=owner)
    assert not Product.objects.exists()


def test_it_uses_the_parent_column_when_there_is_one(org, owner, tmp_path):
    run_import(
        org,
        owner,
        "products",
        tmp_path,
        [
            ["SKU", "Name", "Parent SKU"],
            ["A", "Base", ""],
            ["A-1", "Variant", "A"],
            ["B-XL", "Other", ""],
        ],
    )
    parents = dict(Product.objects.values_list("sku", "parent__sku"))
    assert parents == {"A": None, "A-1": "A", "B-XL": None}


def test_it_resolves_parents_defined_earlier_in_the_same_file(org, owner, tmp_path, settings):
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 2}
    job = run_import(
        org,
        owner,
        "product-categories",
        tmp_path,
        [
            ["Category", "Parent"],
            ["Bikes", ""],
            ["Road", "Bikes"],
            ["Gravel", "Road"],
            ["Kids", "Bikes"],
        ],
    )
    assert job.summary["failed"] == 0, log_messages(job)
    parents = dict(ProductCategory.objects.values_list("name", "parent__name"))
    assert parents == {"Bikes": None, "Road": "Bikes", "Gravel": "Road", "Kids": "Bikes"}


def test_it_previews_parents_defined_in_the_same_file_as_resolvable(org, owner, tmp_path):
    job = run_import(
        org,
        owner,
        "product-categories",
        tmp_path,
        [["Category", "Parent"], ["Bikes", ""], ["Road", "Bikes"]],
        dry_run=True,
    )
    assert (job.summary["would_create"], job.summary["failed"]) == (2, 0)
    assert not ProductCategory.objects.exists()
    assert not ImportChange.objects.exists()
