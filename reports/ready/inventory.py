"""Inventory valuation: stock on hand at cost and at list price, per item and warehouse."""

from __future__ import annotations

from typing import Any

from accounts.permissions import export_code, export_pdf_code
from business.resources import FieldType as T
from business.writers import Column
from reports.ready import selectors
from reports.ready.base import Report, RowCounter, Table, dec, margin, money, percent, quantity
from reports.ready.forms import InventoryValuationReportForm
from reports.ready.registry import register

STATE_LABELS = {"in": "In stock", "low": "Low", "out": "Out of stock"}


@register
class InventoryValuationReport(Report):
    identifier = "inventory-valuation"
    name = "Inventory valuation"
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
        items = selectors.stock_items(organization=organization, filters=filters)
        t = selectors.stock_totals(items)
        warehouses = list(selectors.stock_by_warehouse(items))
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
                Column("code", "Warehouse", T.TEXT),
                Column("name", "Name", T.TEXT),
                Column("items", "Items", T.INTEGER),
                Column("units", "Units", T.DECIMAL),
                Column("cost", "Value at cost", T.MONEY),
                Column("retail", "Value at list price", T.MONEY),
                Column("share", "Share of cost value %", T.MONEY),
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
                Column("warehouse", "Warehouse", T.TEXT),
                Column("sku", "SKU", T.TEXT),
                Column("product", "Product", T.TEXT),
                Column("category", "Category", T.TEXT),
                Column("location", "Location", T.TEXT),
                Column("quantity", "Quantity", T.DECIMAL),
                Column("reorder_level", "Reorder level", T.DECIMAL),
                Column("unit_cost", "Unit cost", T.MONEY),
                Column("list_price", "List price", T.MONEY),
                Column("cost_value", "Value at cost", T.MONEY),
                Column("retail_value", "Value at list price", T.MONEY),
                Column("margin", "Margin %", T.MONEY),
                Column("status", "Status", T.TEXT),
            ],
            pdf_skip=("location", "reorder_level"),
        )
        for item in counter.each(selectors.stock_rows(items)):
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
