"""Sales report: revenue, tax, discounts, cost of goods sold and profit, per order and line."""

from __future__ import annotations

from typing import Any

from accounts.permissions import export_code, export_pdf_code
from business.models import SalesOrder
from business.resources import FieldType as T
from business.writers import Column
from reports.ready import selectors
from reports.ready.base import Report, RowCounter, Table, dec, margin, money, quantity
from reports.ready.forms import SalesReportForm
from reports.ready.registry import register

STATUS_LABELS = dict(SalesOrder.Status.choices)


@register
class SalesReport(Report):
    identifier = "sales"
    name = "Sales"
    description = (
        "Orders in a period with revenue, tax, discounts, cost of goods sold, profit and "
        "margin: a summary, one row per order and every line item."
    )
    rules = (
        "Revenue is quantity × unit price less the line discount, before tax.",
        "Cost of goods sold is quantity × the unit cost recorded on the line; profit is "
        "revenue less cost of goods sold; margin is profit as a share of revenue.",
        "Cancelled orders are left out unless the status filter asks for them.",
        "Amounts are summed exactly and rounded half up to cents.",
    )
    permission = export_code("salesorder")
    pdf_permission = export_pdf_code("salesorder")
    form_class = SalesReportForm
    sections = ("Sales", "Line Items")

    def render(self, *, organization, params: dict[str, Any], writer, progress) -> dict:
        filters = self.clean_params(organization=organization, params=params).cleaned_data
        orders = selectors.sales_orders(organization=organization, filters=filters)
        t = selectors.sales_totals(organization=organization, orders=orders)
        profit = t["revenue"] - t["cogs"]
        figures = {
            "orders": t["orders"],
            "customers": t["customers"],
            "lines": t["lines"],
            "units": quantity(t["units"]),
            "gross_sales": money(t["gross"]),
            "discounts": money(t["discounts"]),
            "revenue": money(t["revenue"]),
            "tax": money(t["tax"]),
            "total_with_tax": money(t["revenue"] + t["tax"]),
            "cost_of_goods_sold": money(t["cogs"]),
            "profit": money(profit),
            "margin_percent": margin(profit, t["revenue"]),
            "average_order": money(t["revenue"] / t["orders"]) if t["orders"] else None,
        }
        period = (
            f"{t['first'].isoformat()} – {t['last'].isoformat()}" if t["first"] else "No orders"
        )
        writer.summary(
            "Summary",
            [
                ("Orders", figures["orders"]),
                ("Customers", figures["customers"]),
                ("Order dates", period),
                ("Line items", figures["lines"]),
                ("Units sold", figures["units"]),
                ("Gross sales (before discounts)", figures["gross_sales"]),
                ("Discounts", figures["discounts"]),
                ("Revenue (net of discounts, before tax)", figures["revenue"]),
                ("Tax", figures["tax"]),
                ("Total with tax", figures["total_with_tax"]),
                ("Cost of goods sold", figures["cost_of_goods_sold"]),
                ("Gross profit", figures["profit"]),
                ("Margin %", figures["margin_percent"]),
                ("Average order (revenue)", figures["average_order"]),
            ],
        )
        counter = RowCounter(progress, t["orders"] + t["lines"])

        sales = Table(
            writer,
            "Sales",
            [
                Column("number", "Order", T.TEXT),
                Column("order_date", "Date", T.DATE),
                Column("customer_code", "Customer code", T.TEXT),
                Column("customer_name", "Customer", T.TEXT),
                Column("warehouse", "Warehouse", T.TEXT),
                Column("status", "Status", T.TEXT),
                Column("lines", "Lines", T.INTEGER),
                Column("units", "Units", T.DECIMAL),
                Column("gross", "Gross", T.MONEY),
                Column("discounts", "Discounts", T.MONEY),
                Column("revenue", "Revenue", T.MONEY),
                Column("tax", "Tax", T.MONEY),
                Column("total", "Total with tax", T.MONEY),
                Column("cogs", "COGS", T.MONEY),
                Column("profit", "Profit", T.MONEY),
                Column("margin", "Margin %", T.MONEY),
            ],
            pdf_skip=("customer_code", "units", "gross", "total"),
        )
        for o in counter.each(selectors.sales_order_rows(organization=organization, orders=orders)):
            revenue, cogs, tax = dec(o["revenue"]), dec(o["cogs"]), dec(o["tax"])
            sales.row(
                [
                    o["number"],
                    o["order_date"],
                    o["customer__code"],
                    o["customer__name"],
                    o["warehouse__code"] or "",
                    STATUS_LABELS.get(o["status"], o["status"]),
                    o["line_count"],
                    quantity(o["units"]),
                    money(o["gross"]),
                    money(o["discounts"]),
                    money(revenue),
                    money(tax),
                    money(revenue + tax),
                    money(cogs),
                    money(revenue - cogs),
                    margin(revenue - cogs, revenue),
                ]
            )

        lines = Table(
            writer,
            "Line Items",
            [
                Column("order", "Order", T.TEXT),
                Column("order_date", "Date", T.DATE),
                Column("line", "Line", T.INTEGER),
                Column("sku", "SKU", T.TEXT),
                Column("product", "Product", T.TEXT),
                Column("quantity", "Quantity", T.DECIMAL),
                Column("unit_price", "Unit price", T.MONEY),
                Column("discount", "Discount", T.MONEY),
                Column("revenue", "Revenue", T.MONEY),
                Column("tax", "Tax", T.MONEY),
                Column("unit_cost", "Unit cost", T.MONEY),
                Column("cogs", "COGS", T.MONEY),
                Column("profit", "Profit", T.MONEY),
            ],
            pdf_skip=("order_date", "tax"),
        )
        for line in counter.each(
            selectors.sales_line_rows(organization=organization, orders=orders)
        ):
            qty = dec(line["quantity"])
            revenue = qty * dec(line["unit_price"]) - dec(line["discount"])
            cogs = qty * dec(line["unit_cost"])
            lines.row(
                [
                    line["order__number"],
                    line["order__order_date"],
                    line["line_number"],
                    line["product__sku"],
                    line["product__name"],
                    quantity(qty),
                    money(line["unit_price"]),
                    money(line["discount"]),
                    money(revenue),
                    money(line["tax"]),
                    money(line["unit_cost"]),
                    money(cogs),
                    money(revenue - cogs),
                ]
            )
        counter.finish()
        return {"rows": counter.done, "figures": figures}
