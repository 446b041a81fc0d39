"""Sales report: revenue, tax, discounts, cost of goods sold and profit, per order and line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.db.models import Count, F, Max, Min, QuerySet

from accounts.permissions import export_code, export_pdf_code
from accounts.scoping import scoped
from business.models import Customer, SalesOrder, SalesOrderLine
from business.resources import FieldType as T
from business.writers import Column
from reports.exporters import RowCounter, register
from reports.ready.base import Report, Table, dec, margin, money, quantity
from reports.ready.forms import CUSTOMER_SUGGESTIONS, DateField, ReportForm, warehouse_choices
from reports.ready.queries import decimal_sum

STATUS_LABELS = dict(SalesOrder.Status.choices)


# --- parameters ------------------------------------------------------------


class SalesReportForm(ReportForm):
    date_ranges = (("date_from", "date_to"),)

    date_from = DateField(label="From", required=False)
    date_to = DateField(label="To", required=False)
    warehouse = forms.ChoiceField(label="Warehouse or store", required=False)
    customer = forms.CharField(
        label="Customer code",
        required=False,
        max_length=64,
        help_text="Only this customer's orders; leave empty for all customers.",
    )
    status = forms.MultipleChoiceField(
        label="Status",
        required=False,
        choices=SalesOrder.Status.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked for every status except cancelled.",
    )

    def setup(self) -> None:
        self.fields["warehouse"].choices = warehouse_choices(self.organization)
        # Suggestions while typing a customer code; a very large book only offers the first.
        customers = scoped(Customer, self.organization).order_by("code")
        self.datalists = {
            "customer": list(customers.values_list("code", "name")[:CUSTOMER_SUGGESTIONS])
        }
        self.fields["customer"].widget.attrs["list"] = "customer-codes"

    def clean_customer(self) -> str:
        code = self.cleaned_data["customer"].strip()
        if code and not scoped(Customer, self.organization).filter(code=code).exists():
            raise forms.ValidationError(f"No customer with the code '{code}' in this organization.")
        return code


# --- queries ------------------------------------------------------------

# Revenue of a line is quantity × unit price less the line discount (SalesOrderLine.net_amount),
# before tax; its cost of goods sold is quantity × the unit cost recorded on the line.
LINE_GROSS = F("quantity") * F("unit_price")
LINE_NET = F("quantity") * F("unit_price") - F("discount")
LINE_COGS = F("quantity") * F("unit_cost")


def sales_orders(*, organization, filters: dict[str, Any]) -> QuerySet[SalesOrder]:
    """The orders the sales report covers. Cancelled orders only when the status filter asks."""
    qs = scoped(SalesOrder, organization)
    if filters.get("date_from"):
        qs = qs.filter(order_date__gte=filters["date_from"])
    if filters.get("date_to"):
        qs = qs.filter(order_date__lte=filters["date_to"])
    if filters.get("warehouse"):
        qs = qs.filter(warehouse__code=filters["warehouse"])
    if filters.get("customer"):
        qs = qs.filter(customer__code=filters["customer"])
    statuses = filters.get("status") or [
        s for s in SalesOrder.Status.values if s != SalesOrder.Status.CANCELLED
    ]
    return qs.filter(status__in=statuses)


def sales_lines(*, organization, orders: QuerySet[SalesOrder]) -> QuerySet[SalesOrderLine]:
    return scoped(SalesOrderLine, organization).filter(order__in=orders.values("pk"))


def sales_totals(*, organization, orders: QuerySet[SalesOrder]) -> dict[str, Any]:
    """Order count plus the line totals of the selected orders (two queries)."""
    head = orders.aggregate(
        orders=Count("pk"),
        customers=Count("customer", distinct=True),
        first=Min("order_date"),
        last=Max("order_date"),
    )
    lines = sales_lines(organization=organization, orders=orders).aggregate(
        lines=Count("pk"),
        units=decimal_sum(F("quantity")),
        gross=decimal_sum(LINE_GROSS),
        discounts=decimal_sum(F("discount")),
        revenue=decimal_sum(LINE_NET),
        tax=decimal_sum(F("tax")),
        cogs=decimal_sum(LINE_COGS),
    )
    out = {**head, **lines}
    for key in ("units", "gross", "discounts", "revenue", "tax", "cogs"):
        out[key] = dec(out[key])
    return out


def sales_order_rows(*, organization, orders: QuerySet[SalesOrder]) -> Iterator[dict[str, Any]]:
    """One row per order with its line totals, aggregated in one grouped query."""
    qs = (
        orders.annotate(
            line_count=Count("lines"),
            units=decimal_sum(F("lines__quantity")),
            gross=decimal_sum(F("lines__quantity") * F("lines__unit_price")),
            discounts=decimal_sum(F("lines__discount")),
            revenue=decimal_sum(
                F("lines__quantity") * F("lines__unit_price") - F("lines__discount")
            ),
            tax=decimal_sum(F("lines__tax")),
            cogs=decimal_sum(F("lines__quantity") * F("lines__unit_cost")),
        )
        .order_by("order_date", "number")
        .values(
            "number",
            "order_date",
            "status",
            "customer__code",
            "customer__name",
            "warehouse__code",
            "line_count",
            "units",
            "gross",
            "discounts",
            "revenue",
            "tax",
            "cogs",
        )
    )
    return qs.iterator(chunk_size=2000)


def sales_line_rows(*, organization, orders: QuerySet[SalesOrder]) -> Iterator[dict[str, Any]]:
    qs = (
        sales_lines(organization=organization, orders=orders)
        .order_by("order__order_date", "order__number", "line_number")
        .values(
            "order__number",
            "order__order_date",
            "line_number",
            "product__sku",
            "product__name",
            "quantity",
            "unit_price",
            "discount",
            "tax",
            "unit_cost",
        )
    )
    return qs.iterator(chunk_size=2000)


# --- the report ------------------------------------------------------------


@register
class SalesReport(Report):
    identifier = "sales"
    name = "Sales"
    order = 10  # money first, the audit trail last
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
        orders = sales_orders(organization=organization, filters=filters)
        t = sales_totals(organization=organization, orders=orders)
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
                Column("number", "Order", T.TEXT, nowrap=True),
                Column("order_date", "Date", T.DATE),
                Column("customer_code", "Customer code", T.TEXT, nowrap=True),
                Column("customer_name", "Customer", T.TEXT),
                Column("warehouse", "Warehouse", T.TEXT, nowrap=True),
                Column("status", "Status", T.TEXT),
                Column("lines", "Lines", T.INTEGER, total=True),
                Column("units", "Units", T.DECIMAL, total=True),
                Column("gross", "Gross", T.MONEY),
                Column("discounts", "Discounts", T.MONEY),
                Column("revenue", "Revenue", T.MONEY),
                Column("tax", "Tax", T.MONEY),
                Column("total", "Total with tax", T.MONEY),
                Column("cogs", "COGS", T.MONEY),
                Column("profit", "Profit", T.MONEY),
                Column("margin", "Margin %", T.MONEY, total=False),
            ],
            pdf_skip=("customer_code", "units", "gross", "total"),
        )
        for o in counter.each(sales_order_rows(organization=organization, orders=orders)):
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
                Column("order", "Order", T.TEXT, nowrap=True),
                Column("order_date", "Date", T.DATE),
                Column("line", "Line", T.INTEGER),
                Column("sku", "SKU", T.TEXT, nowrap=True),
                Column("product", "Product", T.TEXT),
                Column("quantity", "Quantity", T.DECIMAL, total=True),
                Column("unit_price", "Unit price", T.MONEY, total=False),
                Column("discount", "Discount", T.MONEY),
                Column("revenue", "Revenue", T.MONEY),
                Column("tax", "Tax", T.MONEY),
                Column("unit_cost", "Unit cost", T.MONEY, total=False),
                Column("cogs", "COGS", T.MONEY),
                Column("profit", "Profit", T.MONEY),
            ],
            pdf_skip=("order_date", "tax"),
        )
        for line in counter.each(sales_line_rows(organization=organization, orders=orders)):
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
