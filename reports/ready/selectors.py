"""The queries behind the ready-made reports.

Every figure is aggregated in the database (``Sum``/``Count``/``annotate``): one query per table,
rows streamed with ``iterator()``, never a query per row. Each function takes the cleaned filter
values of its report's form and the organization, and reaches records only through ``scoped``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce

from accounts.scoping import scoped
from business.models import (
    AuditEvent,
    CreditTransaction,
    Customer,
    ProductCategory,
    SalesOrder,
    SalesOrderLine,
    StockItem,
)
from reports.ready.base import ZERO, dec

# Wide enough for any sum of products of money (2 places) and quantities (3 places).
DEC = DecimalField(max_digits=30, decimal_places=6)
ZERO_DEC = Value(Decimal("0"), output_field=DEC)


def _expr(expression) -> ExpressionWrapper:
    return ExpressionWrapper(expression, output_field=DEC)


def decimal_sum(expression, **kwargs) -> Coalesce:
    return Coalesce(Sum(_expr(expression), **kwargs), ZERO_DEC, output_field=DEC)


# --- sales ------------------------------------------------------------------------------------

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


# --- customers and credit aging ---------------------------------------------------------------

BUCKETS = ("0–30 days", "31–60 days", "61–90 days", "90+ days")


def aging_bucket(age_days: int) -> int:
    """Index into BUCKETS of a charge ``age_days`` old."""
    if age_days <= 30:
        return 0
    if age_days <= 60:
        return 1
    if age_days <= 90:
        return 2
    return 3


def _credit_until(organization, as_of: dt.date) -> QuerySet[CreditTransaction]:
    return scoped(CreditTransaction, organization).filter(date__lte=as_of)


def _customer_total(organization, as_of: dt.date, kind: str) -> Subquery:
    total = (
        _credit_until(organization, as_of)
        .filter(customer=OuterRef("pk"), kind=kind)
        .order_by()
        .values("customer")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=DEC), ZERO_DEC, output_field=DEC)


def aging_customers(*, organization, filters: dict[str, Any], as_of: dt.date) -> QuerySet:
    """Customers with their charges, payments and balance as of ``as_of``, filtered."""
    last_payment = (
        _credit_until(organization, as_of)
        .filter(customer=OuterRef("pk"), kind=CreditTransaction.Kind.PAYMENT)
        .order_by("-date")
        .values("date")[:1]
    )
    # Keyed on the customer alone: the outer query is scoped, and an organization filter here
    # makes SQLite walk every order of the organization for each customer.
    orders = (
        SalesOrder.objects.filter(customer=OuterRef("pk"))
        .exclude(status=SalesOrder.Status.CANCELLED)
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    qs = scoped(Customer, organization).annotate(
        charges=_customer_total(organization, as_of, CreditTransaction.Kind.CHARGE),
        payments=_customer_total(organization, as_of, CreditTransaction.Kind.PAYMENT),
        outstanding=_expr(F("charges") - F("payments")),
        last_payment=Subquery(last_payment),
        order_count=Coalesce(Subquery(orders), Value(0)),
    )
    if filters.get("customer_type"):
        qs = qs.filter(customer_type=filters["customer_type"])
    if filters.get("credit_status"):
        qs = qs.filter(credit_status=filters["credit_status"])
    if filters.get("active") == "active":
        qs = qs.filter(is_active=True)
    elif filters.get("active") == "inactive":
        qs = qs.filter(is_active=False)
    if filters.get("min_outstanding") is not None:
        qs = qs.filter(outstanding__gte=filters["min_outstanding"])
    return qs.order_by("code")


@dataclass
class CustomerAging:
    buckets: list[Decimal] = field(default_factory=lambda: [ZERO, ZERO, ZERO, ZERO])
    oldest_unpaid: dt.date | None = None

    @property
    def unpaid(self) -> Decimal:
        return sum(self.buckets, ZERO)


def aging_by_customer(
    *, organization, customers: QuerySet[Customer], as_of: dt.date
) -> dict[int, CustomerAging]:
    """Unpaid charges per customer and aging bucket, payments applied oldest charge first.

    One query: every charge up to ``as_of`` with the running total of its customer's charges
    (a window, oldest first) and the customer's total credits. A charge is paid as far as the
    credits cover the running total up to and including it; the rest of it is unpaid and aged
    by its own date. Credits are payments plus charges with a negative amount (credit notes).
    """
    credits = (
        _credit_until(organization, as_of)
        .filter(customer=OuterRef("customer"))
        .filter(Q(kind=CreditTransaction.Kind.PAYMENT) | Q(amount__lt=0))
        .order_by()
        .values("customer")
        .annotate(
            total=Sum(
                Case(
                    When(kind=CreditTransaction.Kind.PAYMENT, then=F("amount")),
                    default=-F("amount"),
                    output_field=DEC,
                )
            )
        )
        .values("total")
    )
    charges = (
        _credit_until(organization, as_of)
        .filter(
            kind=CreditTransaction.Kind.CHARGE,
            amount__gt=0,
            customer__in=customers.order_by().values("pk"),
        )
        .annotate(
            running=Window(
                Sum("amount", output_field=DEC),
                partition_by=[F("customer_id")],
                order_by=[F("date").asc(), F("id").asc()],
            ),
            credited=Coalesce(Subquery(credits, output_field=DEC), ZERO_DEC, output_field=DEC),
        )
        .order_by("customer_id", "date", "id")
        .values_list("customer_id", "date", "amount", "running", "credited")
    )
    result: dict[int, CustomerAging] = {}
    for customer_id, date, amount, running, credited in charges.iterator(chunk_size=5000):
        amount, running, credited = dec(amount), dec(running), max(dec(credited), ZERO)
        unpaid = min(amount, max(ZERO, running - credited))
        if unpaid <= 0:
            continue
        aging = result.setdefault(customer_id, CustomerAging())
        aging.buckets[aging_bucket((as_of - date).days)] += unpaid
        if aging.oldest_unpaid is None:
            aging.oldest_unpaid = date
    return result


RECENT_DAYS = 90


def recent_credit_transactions(
    *, organization, customers: QuerySet[Customer], as_of: dt.date
) -> QuerySet:
    since = as_of - dt.timedelta(days=RECENT_DAYS)
    return (
        _credit_until(organization, as_of)
        .filter(date__gt=since, customer__in=customers.order_by().values("pk"))
        .order_by("customer__code", "-date", "-id")
        .values(
            "customer__code",
            "customer__name",
            "date",
            "reference",
            "kind",
            "amount",
            "note",
        )
    )


# --- inventory --------------------------------------------------------------------------------

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
            cost_value=_expr(COST_VALUE),
            retail_value=_expr(RETAIL_VALUE),
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


# --- audit log --------------------------------------------------------------------------------


def audit_events(*, organization, filters: dict[str, Any]) -> QuerySet[AuditEvent]:
    qs = scoped(AuditEvent, organization)
    if filters.get("date_from"):
        qs = qs.filter(time__date__gte=filters["date_from"])
    if filters.get("date_to"):
        qs = qs.filter(time__date__lte=filters["date_to"])
    if filters.get("event_type"):
        qs = qs.filter(event_type=filters["event_type"])
    if filters.get("user"):
        qs = qs.filter(user__username=filters["user"])
    return qs


def audit_totals(events: QuerySet[AuditEvent]) -> dict[str, Any]:
    return events.aggregate(
        events=Count("pk"),
        users=Count("user", distinct=True),
        first=Min("time"),
        last=Max("time"),
    )


def audit_by_type(events: QuerySet[AuditEvent]) -> QuerySet:
    return (
        events.order_by()
        .values("event_type")
        .annotate(count=Count("pk"), last=Max("time"))
        .order_by("-count", "event_type")
    )


TOP_USERS = 10


def audit_top_users(events: QuerySet[AuditEvent]) -> QuerySet:
    return (
        events.order_by()
        .values("user__username")
        .annotate(count=Count("pk"), last=Max("time"))
        .order_by("-count", "user__username")[:TOP_USERS]
    )


def audit_rows(events: QuerySet[AuditEvent]) -> Iterator[dict[str, Any]]:
    return (
        events.order_by("time", "pk")
        .values(
            "time",
            "event_type",
            "user__username",
            "object_type",
            "object_id",
            "object_repr",
            "ip_address",
            "details",
        )
        .iterator(chunk_size=2000)
    )
