"""Inventory valuation and audit log figures against expectations computed in the test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from business.models import AuditEvent, StockItem
from tests.factories import (
    ProductCategoryFactory,
    ProductFactory,
    StockItemFactory,
    UserFactory,
    WarehouseFactory,
)
from tests.reports.test_ready_helpers import (
    cents,
    num,
    read_csv_sections,
    read_xlsx,
    run,
    run_json,
    xlsx_summary,
    xlsx_table,
)

D = Decimal


@pytest.fixture
def stock(org, other_org):
    tools = ProductCategoryFactory(organization=org, name="Tools")
    drills = ProductCategoryFactory(organization=org, name="Drills", parent=tools)
    paint = ProductCategoryFactory(organization=org, name="Paint")
    main = WarehouseFactory(organization=org, code="MAIN", name="Main warehouse")
    shop = WarehouseFactory(organization=org, code="SHOP", name="City store")
    drill = ProductFactory(
        organization=org, sku="DR-1", category=drills, unit_cost=D("45.50"), list_price=D("79.99")
    )
    hammer = ProductFactory(
        organization=org, sku="HA-1", category=tools, unit_cost=D("7.25"), list_price=D("12.00")
    )
    white = ProductFactory(
        organization=org, sku="PA-1", category=paint, unit_cost=D("0"), list_price=D("19.90")
    )
    specs = [
        (drill, main, "12.5", "5"),  # in stock
        (drill, shop, "3", "5"),  # low
        (hammer, main, "0", "10"),  # out
        (hammer, shop, "-2", "0"),  # out (negative)
        (white, main, "40", "10"),  # in stock, zero cost value
        (white, shop, "10", "10"),  # low: at the reorder level
    ]
    for product, warehouse, qty, reorder in specs:
        StockItemFactory(
            organization=org,
            product=product,
            warehouse=warehouse,
            quantity=D(qty),
            reorder_level=D(reorder),
        )
    StockItemFactory(
        organization=org,
        product=ProductFactory(organization=org, sku="SOLD-1", unit_cost=D("999")),
        warehouse=main,
        quantity=D("1"),
        status="sold",
    )
    StockItemFactory(
        organization=other_org,
        product=ProductFactory(organization=other_org, sku="DR-1", unit_cost=D("1000")),
        warehouse=WarehouseFactory(organization=other_org, code="MAIN"),
        quantity=D("1000"),
    )


def valuation(items):
    cost = sum((i.quantity * i.product.unit_cost for i in items), D(0))
    retail = sum((i.quantity * i.product.list_price for i in items), D(0))
    return cents(cost), cents(retail), sum((i.quantity for i in items), D(0))


def on_hand(org, **criteria):
    return list(
        StockItem.objects.filter(organization=org, status="in_stock", **criteria).select_related(
            "product"
        )
    )


def test_it_values_stock_at_cost_and_list_price(org, stock, tmp_path):
    items = on_hand(org)
    cost, retail, units = valuation(items)
    data = run_json(org, "inventory-valuation", tmp_path)
    s = data["summary"]
    assert s["Stock items"] == len(items) == 6
    assert s["Units on hand"] == units
    assert s["Value at cost"] == cost
    assert s["Value at list price"] == retail
    assert s["Potential gross profit"] == cents(retail - cost)
    assert (s["In stock"], s["Low stock"], s["Out of stock"]) == (2, 2, 2)
    by_wh = {r["code"]: r for r in data["Warehouses"]}
    for code in ("MAIN", "SHOP"):
        c, r, u = valuation(on_hand(org, warehouse__code=code))
        assert (by_wh[code]["cost"], by_wh[code]["retail"], by_wh[code]["units"]) == (c, r, u)
    rows = {(r["warehouse"], r["sku"]): r for r in data["Stock Items"]}
    drill = rows[("MAIN", "DR-1")]
    assert drill["cost_value"] == D("568.75")  # 12.5 × 45.50
    assert drill["retail_value"] == cents(D("12.5") * D("79.99"))
    assert drill["margin"] == cents((D("79.99") - D("45.50")) * 100 / D("79.99"))
    assert drill["status"] == "In stock"
    assert rows[("SHOP", "PA-1")]["status"] == "Low"
    assert rows[("SHOP", "HA-1")]["status"] == "Out of stock"
    assert ("MAIN", "SOLD-1") not in rows


@pytest.mark.parametrize(
    ("params", "criteria"),
    [
        ({"warehouse": "SHOP"}, {"warehouse__code": "SHOP"}),
        ({"category": "Tools"}, {"product__category__name__in": ["Tools", "Drills"]}),
        ({"stock_status": "low"}, {"pk__in": "low"}),
        ({"stock_status": "out"}, {"quantity__lte": 0}),
        ({"min_quantity": "10"}, {"quantity__gte": 10}),
    ],
)
def test_it_filters_stock(org, stock, tmp_path, params, criteria):
    if criteria.get("pk__in") == "low":
        criteria = {"pk__in": [i.pk for i in on_hand(org) if D(0) < i.quantity <= i.reorder_level]}
    items = on_hand(org, **criteria)
    data = run_json(org, "inventory-valuation", tmp_path, params)
    assert data["summary"]["Stock items"] == len(items)
    assert data["summary"]["Value at cost"] == valuation(items)[0]
    assert sorted(r["sku"] for r in data["Stock Items"]) == sorted(i.product.sku for i in items)


def test_it_can_leave_out_items_without_value(org, stock, tmp_path):
    data = run_json(org, "inventory-valuation", tmp_path, {"exclude_zero_value": True})
    skus = sorted((r["warehouse"], r["sku"]) for r in data["Stock Items"])
    # Zero quantity or zero unit cost is no value; negative stock still has a (negative) value.
    assert skus == [("MAIN", "DR-1"), ("SHOP", "DR-1"), ("SHOP", "HA-1")]


def test_it_writes_inventory_xlsx_and_csv(org, stock, tmp_path):
    cost, retail, _ = valuation(on_hand(org))
    path, _, _ = run(org, "inventory-valuation", "xlsx", tmp_path)
    sheets = read_xlsx(path)
    assert list(sheets) == ["Summary", "Warehouses", "Stock Items"]
    assert num(xlsx_summary(sheets["Summary"])["Value at cost"]) == cost
    items = xlsx_table(sheets["Stock Items"])
    assert sum(num(r["Value at list price"]) for r in items) == sum(
        cents(i.quantity * i.product.list_price) for i in on_hand(org)
    )
    assert retail == cents(sum(i.quantity * i.product.list_price for i in on_hand(org)))
    csv_path, _, _ = run(org, "inventory-valuation", "csv", tmp_path)
    sections = read_csv_sections(csv_path)
    assert list(sections) == ["Summary", "Warehouses", "Stock Items"]
    assert sections["Stock Items"][0][:3] == ["Warehouse", "SKU", "Product"]


# --- audit log --------------------------------------------------------------------------------


@pytest.fixture
def trail(org, other_org, owner, manager):
    ghost = UserFactory(username="ghost")  # no member of org: may not be picked as a filter
    now = timezone.now()
    specs = [
        (owner, "login", 0),
        (owner, "export", 0),
        (owner, "export", 1),
        (manager, "login", 2),
        (manager, "import", 3),
        (None, "record_updated", 4),
        (owner, "report", 40),
    ]
    for user, kind, days in specs:
        AuditEvent.objects.create(
            organization=org,
            time=now - dt.timedelta(days=days),
            user=user,
            event_type=kind,
            object_repr='=HYPERLINK("http://x")' if kind == "import" else "contacts",
            details={"rows": days},
        )
    AuditEvent.objects.create(
        organization=other_org, time=now, user=ghost, event_type="login", object_repr="rival"
    )
    return now


def test_it_counts_audit_events_by_type_and_user(org, trail, tmp_path):
    data = run_json(org, "audit-log", tmp_path)
    assert data["summary"]["Events"] == 7
    assert data["summary"]["Users"] == 2
    by_type = {r["event_type"]: r["count"] for r in data["Events by Type"]}
    assert by_type == {"Login": 2, "Export": 2, "Import": 1, "Record updated": 1, "Report": 1}
    users = [(r["user"], r["count"]) for r in data["Top Users"]]
    assert users == [("owner", 4), ("manager", 2), ("(system)", 1)]
    assert len(data["Events"]) == 7
    assert "rival" not in {e["object"] for e in data["Events"]}
    assert data["summary"]["Most active user"] == "owner (4)"


def test_it_filters_audit_events(org, trail, tmp_path):
    today = timezone.localdate(trail)
    recent = run_json(
        org,
        "audit-log",
        tmp_path,
        {"date_from": (today - dt.timedelta(days=7)).isoformat(), "date_to": today.isoformat()},
    )
    assert recent["summary"]["Events"] == 6
    exports = run_json(org, "audit-log", tmp_path, {"event_type": "export", "user": "owner"})
    assert exports["summary"]["Events"] == 2
    assert {e["event_type"] for e in exports["Events"]} == {"Export"}


def test_it_neutralises_formulas_in_audit_text(org, trail, tmp_path):
    path, _, _ = run(org, "audit-log", "csv", tmp_path)
    events = read_csv_sections(path)["Events"]
    header, *rows = events
    objects = [r[header.index("Object")] for r in rows]
    assert '\'=HYPERLINK("http://x")' in objects


# --- no query per row -------------------------------------------------------------------------


def _queries(org, report, tmp_path) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        run_json(org, report, tmp_path)
    return len(ctx.captured_queries)


@pytest.mark.parametrize("report", ["sales", "customer-aging", "inventory-valuation", "audit-log"])
def test_it_runs_the_same_number_of_queries_for_ten_or_forty_records(org, owner, tmp_path, report):
    from tests.factories import CreditTransactionFactory, CustomerFactory, SalesOrderLineFactory

    def add(n):
        for _ in range(n):
            line = SalesOrderLineFactory(order__customer=CustomerFactory(organization=org))
            CreditTransactionFactory(customer=line.order.customer)
            StockItemFactory(organization=org, product=line.product)
            AuditEvent.objects.create(
                organization=org, time=timezone.now(), user=owner, event_type="export"
            )

    add(10)
    few = _queries(org, report, tmp_path)
    add(30)
    many = _queries(org, report, tmp_path)
    assert many == few
