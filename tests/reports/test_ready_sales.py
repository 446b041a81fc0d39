"""Sales report figures against expectations computed here, in plain Python, from the records."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from business.models import SalesOrder, SalesOrderLine
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    SalesOrderFactory,
    SalesOrderLineFactory,
    WarehouseFactory,
)
from tests.reports.test_ready_helpers import (
    cents,
    num,
    read_csv_sections,
    read_json,
    read_xlsx,
    run,
    run_json,
    xlsx_summary,
    xlsx_table,
)

D = Decimal
TODAY = dt.date(2026, 3, 31)
STATUSES = ["draft", "confirmed", "invoiced", "cancelled"]


@pytest.fixture
def shop(org, other_org):
    """Forty random orders (fractional quantities, half-cent products) plus a rival's orders."""
    rng = random.Random(20260331)
    warehouses = [WarehouseFactory(organization=org, code=c) for c in ("MAIN", "SHOP")]
    customers = [CustomerFactory(organization=org, code=f"C{i}") for i in range(4)]
    products = [
        ProductFactory(organization=org, sku=f"P{i}", name=f"Product {i}") for i in range(6)
    ]
    for n in range(40):
        order = SalesOrderFactory(
            customer=rng.choice(customers),
            number=f"SO-{n:03d}",
            order_date=TODAY - dt.timedelta(days=rng.randint(0, 60)),
            status=rng.choice(STATUSES),
            warehouse=rng.choice(warehouses + [None]),
        )
        for line_number in range(1, rng.randint(0, 4) + 1):
            SalesOrderLineFactory(
                order=order,
                line_number=line_number,
                product=rng.choice(products),
                quantity=D(rng.choice(["1", "2", "1.5", "0.333", "12", "2.125"])),
                unit_price=D(rng.choice(["9.99", "19.95", "0.05", "120.00", "3.33"])),
                unit_cost=D(rng.choice(["4.10", "7.77", "0.01", "55.55"])),
                discount=D(rng.choice(["0", "0", "1.00", "0.50"])),
                tax=D(rng.choice(["0", "1.99", "12.34"])),
            )
    # Another organization's sales: large, so any leak would show in every total.
    rival = CustomerFactory(organization=other_org, code="C0")
    rival_order = SalesOrderFactory(customer=rival, number="SO-000", order_date=TODAY)
    SalesOrderLineFactory(
        order=rival_order,
        product=ProductFactory(organization=other_org, sku="P0"),
        quantity=D("1000"),
        unit_price=D("999.99"),
    )
    return {"warehouses": warehouses, "customers": customers}


def expected(orders) -> dict:
    """The figures, summed exactly over every line in Python, rounded at the end."""
    revenue = tax = discounts = cogs = gross = units = D(0)
    lines = 0
    per_order = {}
    for order in orders:
        o_rev = o_cogs = o_tax = D(0)
        for line in SalesOrderLine.objects.filter(order=order):
            lines += 1
            units += line.quantity
            gross += line.quantity * line.unit_price
            revenue += line.net_amount
            o_rev += line.net_amount
            tax += line.tax
            o_tax += line.tax
            discounts += line.discount
            cogs += line.quantity * line.unit_cost
            o_cogs += line.quantity * line.unit_cost
        per_order[order.number] = (o_rev, o_tax, o_cogs)
    profit = revenue - cogs
    return {
        "orders": len(orders),
        "lines": lines,
        "units": units,
        "gross": cents(gross),
        "revenue": cents(revenue),
        "tax": cents(tax),
        "discounts": cents(discounts),
        "cogs": cents(cogs),
        "profit": cents(profit),
        "margin": cents(profit * 100 / revenue) if revenue else None,
        "per_order": per_order,
    }


def selected(org, **criteria):
    orders = SalesOrder.objects.filter(organization=org, **criteria)
    if "status__in" not in criteria:
        orders = orders.exclude(status="cancelled")
    return list(orders)


def test_it_computes_revenue_tax_cogs_profit_and_margin(org, shop, tmp_path):
    want = expected(selected(org))
    data = run_json(org, "sales", tmp_path)
    s = data["summary"]
    assert s["Orders"] == want["orders"]
    assert s["Line items"] == want["lines"]
    assert s["Gross sales (before discounts)"] == want["gross"]
    assert s["Revenue (net of discounts, before tax)"] == want["revenue"]
    assert s["Tax"] == want["tax"]
    assert s["Discounts"] == want["discounts"]
    assert s["Cost of goods sold"] == want["cogs"]
    assert s["Gross profit"] == want["profit"]
    assert s["Margin %"] == want["margin"]
    assert s["Total with tax"] == cents(
        sum(v[0] for v in want["per_order"].values())
        + sum(v[1] for v in want["per_order"].values())
    )
    # One row per order, and each order's own figures.
    assert sorted(r["number"] for r in data["Sales"]) == sorted(want["per_order"])
    for row in data["Sales"]:
        o_rev, o_tax, o_cogs = want["per_order"][row["number"]]
        assert row["revenue"] == cents(o_rev)
        assert row["tax"] == cents(o_tax)
        assert row["cogs"] == cents(o_cogs)
        assert row["profit"] == cents(o_rev - o_cogs)
        assert row["margin"] == (cents((o_rev - o_cogs) * 100 / o_rev) if o_rev > 0 else None)
    assert len(data["Line Items"]) == want["lines"]
    assert sum(r["quantity"] for r in data["Line Items"]) == want["units"]


def test_it_leaves_cancelled_orders_out_unless_asked(org, shop, tmp_path):
    data = run_json(org, "sales", tmp_path)
    assert "Cancelled" not in {r["status"] for r in data["Sales"]}
    only_cancelled = run_json(org, "sales", tmp_path, {"status": ["cancelled"]})
    want = expected(selected(org, status__in=["cancelled"]))
    assert only_cancelled["summary"]["Orders"] == want["orders"] > 0
    assert only_cancelled["summary"]["Revenue (net of discounts, before tax)"] == want["revenue"]
    assert {r["status"] for r in only_cancelled["Sales"]} == {"Cancelled"}


def test_it_filters_by_period_warehouse_and_customer(org, shop, tmp_path):
    start, end = TODAY - dt.timedelta(days=20), TODAY - dt.timedelta(days=5)
    params = {
        "date_from": start.isoformat(),
        "date_to": end.isoformat(),
        "warehouse": "MAIN",
        "customer": "C1",
    }
    want = expected(
        selected(
            org,
            order_date__gte=start,
            order_date__lte=end,
            warehouse__code="MAIN",
            customer__code="C1",
        )
    )
    data = run_json(org, "sales", tmp_path, params)
    assert data["summary"]["Orders"] == want["orders"]
    assert data["summary"]["Revenue (net of discounts, before tax)"] == want["revenue"]
    assert data["summary"]["Gross profit"] == want["profit"]
    for row in data["Sales"]:
        assert start.isoformat() <= row["order_date"] <= end.isoformat()
        assert row["warehouse"] == "MAIN" and row["customer_code"] == "C1"


def test_it_rounds_half_cents_up_after_summing(org, tmp_path):
    order = SalesOrderFactory(customer=CustomerFactory(organization=org), number="SO-R")
    # 1.5 × 9.99 = 14.985 → 14.99 (half up); banker's rounding would give 14.98.
    SalesOrderLineFactory(
        order=order, quantity=D("1.5"), unit_price=D("9.99"), unit_cost=D("0"), discount=D("0")
    )
    data = run_json(org, "sales", tmp_path)
    assert data["summary"]["Revenue (net of discounts, before tax)"] == D("14.99")
    assert data["summary"]["Margin %"] == D("100.00")


def test_it_reports_an_empty_period_without_failing(org, tmp_path):
    data = run_json(org, "sales", tmp_path, {"date_from": "2001-01-01", "date_to": "2001-01-31"})
    assert data["summary"]["Orders"] == 0
    assert data["summary"]["Revenue (net of discounts, before tax)"] == 0
    assert data["summary"]["Margin %"] is None
    assert data["Sales"] == [] and data["Line Items"] == []


def test_it_writes_the_xlsx_sheets_summary_sales_and_line_items(org, shop, tmp_path):
    want = expected(selected(org))
    path, _, _ = run(org, "sales", "xlsx", tmp_path)
    sheets = read_xlsx(path)
    assert list(sheets) == ["Summary", "Sales", "Line Items"]
    summary = xlsx_summary(sheets["Summary"])
    assert num(summary["Revenue (net of discounts, before tax)"]) == want["revenue"]
    assert num(summary["Gross profit"]) == want["profit"]
    assert num(summary["Cost of goods sold"]) == want["cogs"]
    sales = xlsx_table(sheets["Sales"])
    assert len(sales) == want["orders"]
    assert sum(num(r["Revenue"]) for r in sales) == sum(
        cents(v[0]) for v in want["per_order"].values()
    )
    # Dates are real dates and amounts real numbers, not text.
    assert isinstance(sales[0]["Date"], dt.datetime)
    assert isinstance(sales[0]["Revenue"], int | float)
    assert len(xlsx_table(sheets["Line Items"])) == want["lines"]


def test_it_writes_csv_sections_with_headers(org, shop, tmp_path):
    want = expected(selected(org))
    path, _, _ = run(org, "sales", "csv", tmp_path)
    sections = read_csv_sections(path)
    assert list(sections) == ["Summary", "Sales", "Line Items"]
    summary = dict(sections["Summary"])
    assert D(summary["Revenue (net of discounts, before tax)"]) == want["revenue"]
    assert sections["Sales"][0][:3] == ["Order", "Date", "Customer code"]
    assert len(sections["Sales"]) == want["orders"] + 1
    assert len(sections["Line Items"]) == want["lines"] + 1


def test_it_never_includes_another_organizations_sales(org, other_org, shop, tmp_path):
    data = run_json(org, "sales", tmp_path)
    assert "P0" not in {r["sku"] for r in data["Line Items"] if r["quantity"] == 1000}
    assert all(r["quantity"] != 1000 for r in data["Line Items"])
    rival = run_json(other_org, "sales", tmp_path)
    assert rival["summary"]["Orders"] == 1
    assert rival["summary"]["Revenue (net of discounts, before tax)"] == D("999990.00")


def test_it_reads_back_the_same_figures_from_json_after_a_round_trip(org, shop, tmp_path):
    path, result, progress = run(org, "sales", "json", tmp_path)
    data = read_json(path)
    assert result["figures"]["revenue"] == data["summary"]["Revenue (net of discounts, before tax)"]
    assert progress.total == result["rows"] == len(data["Sales"]) + len(data["Line Items"])
