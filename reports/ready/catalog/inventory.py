"""Inventory valuation: stock on hand at cost and at list price, per item and warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When

from accounts.permissions import export_code, export_pdf_code
from accounts.scoping import scoped
from business.models import ProductCategory, StockItem
from business.resources import FieldType as T
from business.writers import Column
from reports.exporters import RowCounter, register
from reports.ready.base import Report, Table, dec, margin, money, percent, quantity
from reports.ready.forms import ANY, DecimalField, ReportForm, warehouse_choices
from reports.ready.queries import decimal_expr, decimal_sum

STATE_LABELS = {"in": "In stock", "low": "Low", "out": "Out of stock"}


# --- parameters ------------------------------------------------------------


class InventoryValuationReportForm(ReportForm):
    STOCK_STATUS = [
        ANY,
        ("in", "In stock (above reorder level)"),
        ("low", "Low (at or below reorder level)"),
        ("out", "Out of stock (zero or less)"),
    ]

    warehouse = forms.ChoiceField(label="Warehouse or store", required=False)
    category = forms.ChoiceField(
        label="Category", required=False, help_text="Includes its sub-categories."
    )
    stock_status = forms.ChoiceField(label="Stock status", required=False, choices=STOCK_STATUS)
    min_quantity = DecimalField(
        label="Minimum quantity", required=False, max_digits=14, decimal_places=3
    )
    exclude_zero_value = forms.BooleanField(
        label="Leave out items with no value",
        required=False,
        help_text="Items whose quantity or unit cost is zero.",
    )

    def setup(self) -> None:
        self.fields["warehouse"].choices = warehouse_choices(self.organization)
        names = scoped(ProductCategory, self.organization).order_by("name")
        self.fields["category"].choices = [ANY] + [
            (n, n) for n in names.values_list("name", flat=True)
        ]


# --- queries ------------------------------------------------------------

ON_HAND = (StockItem.Status.IN_STOCK,)
COST_VALUE = F("quantity") * F("product__unit_cost")
RETAIL_VALUE = F("quantity") * F("product__list_price")
STOCK_STATE = Case(
    When(quantity__lte=0, then=Value("out")),
    When(quantity__lte=F("reorder_level"), then=Value("low")),
    default=Value("in"),
    output_field=CharField(),
)


def category_with_descendants(*, organization, name: str) -> list[int]:
    """The category's id and those of all categories below it (one query for the tree)."""
    rows = list(scoped(ProductCategory, organization).values_list("pk", "parent_id", "name"))
    children: dict[int | None, list[int]] = {}
    root = None
    for pk, parent_id, category_name in rows:
        children.setdefault(parent_id, []).append(pk)
        if category_name == name:
            root = pk
    if root is None:
        return []
    found, todo = [], [root]
    while todo:
        pk = todo.pop()
        if pk in found:  # a cycle in badly imported data must not loop forever
            continue
        found.append(pk)
        todo.extend(children.get(pk, []))
    return found


def stock_items(*, organization, filters: dict[str, Any]) -> QuerySet[StockItem]:
    """Stock on hand (record status "in stock"), valued at the product's cost and list price."""
    qs = (
        scoped(StockItem, organization)
        .filter(status__in=ON_HAND)
        .annotate(
            state=STOCK_STATE,
            cost_value=decimal_expr(COST_VALUE),
            retail_value=decimal_expr(RETAIL_VALUE),
        )
    )
    if filters.get("warehouse"):
        qs = qs.filter(warehouse__code=filters["warehouse"])
    if filters.get("category"):
        ids = category_with_descendants(organization=organization, name=filters["category"])
        qs = qs.filter(product__category__in=ids)
    if filters.get("stock_status"):
        qs = qs.filter(state=filters["stock_status"])
    if filters.get("min_quantity") is not None:
        qs = qs.filter(quantity__gte=filters["min_quantity"])
    if filters.get("exclude_zero_value"):
        # Zero value exactly when a factor is zero: compared on the stored decimals, not on
        # a product that SQLite computes in floating point.
        qs = qs.exclude(quantity=0).exclude(product__unit_cost=0)
    return qs


def stock_totals(items: QuerySet[StockItem]) -> dict[str, Any]:
    totals = items.aggregate(
        items=Count("pk"),
        products=Count("product", distinct=True),
        units=decimal_sum(F("quantity")),
        cost_value=decimal_sum(COST_VALUE),
        retail_value=decimal_sum(RETAIL_VALUE),
        in_stock=Count("pk", filter=Q(quantity__gt=F("reorder_level")) & Q(quantity__gt=0)),
        low=Count("pk", filter=Q(quantity__gt=0, quantity__lte=F("reorder_level"))),
        out=Count("pk", filter=Q(quantity__lte=0)),
    )
    for key in ("units", "cost_value", "retail_value"):
        totals[key] = dec(totals[key])
    return totals


def stock_by_warehouse(items: QuerySet[StockItem]) -> QuerySet:
    return (
        items.order_by()
        .values("warehouse__code", "warehouse__name")
        .annotate(
            item_count=Count("pk"),
            units=decimal_sum(F("quantity")),
            cost=decimal_sum(COST_VALUE),
            retail=decimal_sum(RETAIL_VALUE),
        )
        .order_by("warehouse__code")
    )


def stock_rows(items: QuerySet[StockItem]) -> Iterator[dict[str, Any]]:
    return (
        items.order_by("warehouse__code", "product__sku")
        .values(
            "warehouse__code",
            "warehouse__name",
            "product__sku",
            "product__name",
            "product__category__name",
            "location",
            "quantity",
            "reorder_level",
            "product__unit_cost",
            "product__list_price",
            "state",
        )
        .iterator(chunk_size=2000)
    )


# --- the report ------------------------------------------------------------


@register
class InventoryValuationReport(Report):
    identifier = "inventory-valuation"
    name = "Inventory valuation"
    order = 30
    description = (
        "Stock on hand valued at cost and at list price, with margins and stock status, "
        "in total, per warehouse and per item."
    )
    rules = (
        "Cost value = quantity × the product's unit cost; retail value = quantity × its list "
        "price. Margin % = (list price − unit cost) ÷ list price.",
        "Status: out of stock at zero or less, low at or below the reorder level, otherwise "
        "in stock.",
        "Only stock records marked 'In stock' are valued; sold or delivered items are no "
        "longer on hand.",
    )
    permission = export_code("stockitem")
    pdf_permission = export_pdf_code("stockitem")
    form_class = InventoryValuationReportForm
    sections = ("Warehouses", "Stock Items")

    def render(self, *, organization, params: dict[str, Any], writer, progress) -> dict:
        filters = self.clean_params(organization=organization, params=params).cleaned_data
        items = stock_items(organization=organization, filters=filters)
        t = stock_totals(items)
        warehouses = list(stock_by_warehouse(items))
        figures = {
            "items": t["items"],
            "products": t["products"],
            "warehouses": len(warehouses),
            "units": quantity(t["units"]),
            "cost_value": money(t["cost_value"]),
            "retail_value": money(t["retail_value"]),
            "potential_profit": money(t["retail_value"] - t["cost_value"]),
            "margin_percent": margin(t["retail_value"] - t["cost_value"], t["retail_value"]),
            "in_stock": t["in_stock"],
            "low": t["low"],
            "out": t["out"],
        }
        writer.summary(
            "Summary",
            [
                ("Stock items", figures["items"]),
                ("Products", figures["products"]),
                ("Warehouses", figures["warehouses"]),
                ("Units on hand", figures["units"]),
                ("Value at cost", figures["cost_value"]),
                ("Value at list price", figures["retail_value"]),
                ("Potential gross profit", figures["potential_profit"]),
                ("Margin % (at list price)", figures["margin_percent"]),
                ("In stock", figures["in_stock"]),
                ("Low stock", figures["low"]),
                ("Out of stock", figures["out"]),
            ],
        )
        counter = RowCounter(progress, len(warehouses) + t["items"])

        writer.section(
            "Warehouses",
            [
                Column("code", "Warehouse", T.TEXT, nowrap=True),
                Column("name", "Name", T.TEXT),
                Column("items", "Items", T.INTEGER),
                Column("units", "Units", T.DECIMAL, total=True),
                Column("cost", "Value at cost", T.MONEY),
                Column("retail", "Value at list price", T.MONEY),
                Column("share", "Share of cost value %", T.MONEY, total=False),
            ],
        )
        for w in counter.each(warehouses):
            writer.row(
                [
                    w["warehouse__code"],
                    w["warehouse__name"],
                    w["item_count"],
                    quantity(w["units"]),
                    money(w["cost"]),
                    money(w["retail"]),
                    percent(w["cost"], t["cost_value"]),
                ]
            )

        stock = Table(
            writer,
            "Stock Items",
            [
                Column("warehouse", "Warehouse", T.TEXT, nowrap=True),
                Column("sku", "SKU", T.TEXT, nowrap=True),
                Column("product", "Product", T.TEXT),
                Column("category", "Category", T.TEXT),
                Column("location", "Location", T.TEXT),
                Column("quantity", "Quantity", T.DECIMAL, total=True),
                Column("reorder_level", "Reorder level", T.DECIMAL),
                Column("unit_cost", "Unit cost", T.MONEY, total=False),
                Column("list_price", "List price", T.MONEY, total=False),
                Column("cost_value", "Value at cost", T.MONEY),
                Column("retail_value", "Value at list price", T.MONEY),
                Column("margin", "Margin %", T.MONEY, total=False),
                Column("status", "Status", T.TEXT),
            ],
            pdf_skip=("location", "reorder_level"),
        )
        for item in counter.each(stock_rows(items)):
            qty, cost, price = (
                dec(item["quantity"]),
                dec(item["product__unit_cost"]),
                dec(item["product__list_price"]),
            )
            stock.row(
                [
                    item["warehouse__code"],
                    item["product__sku"],
                    item["product__name"],
                    item["product__category__name"] or "",
                    item["location"],
                    quantity(qty),
                    quantity(item["reorder_level"]),
                    money(cost),
                    money(price),
                    money(qty * cost),
                    money(qty * price),
                    margin(price - cost, price),
                    STATE_LABELS[item["state"]],
                ]
            )
        counter.finish()
        return {"rows": counter.done, "figures": figures}
