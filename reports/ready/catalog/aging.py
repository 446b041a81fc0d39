"""Customers & credit aging: who owes what, and for how long."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import (
    Case,
    Count,
    F,
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
from django.utils import timezone

from accounts.permissions import export_code, export_pdf_code
from accounts.scoping import scoped
from business.models import CreditTransaction, Customer, SalesOrder
from business.resources import FieldType as T
from business.writers import Column
from reports.exporters import RowCounter, register
from reports.ready.base import ZERO, Report, Table, dec, money
from reports.ready.forms import ANY, DateField, DecimalField, ReportForm
from reports.ready.queries import DEC, ZERO_DEC, decimal_expr, decimal_sum

TYPE_LABELS = dict(Customer.Type.choices)
CREDIT_LABELS = dict(Customer.CreditStatus.choices)
KIND_LABELS = dict(CreditTransaction.Kind.choices)


# --- parameters ------------------------------------------------------------


class CustomerAgingReportForm(ReportForm):
    as_of = DateField(
        label="As of",
        required=False,
        help_text="Charges are aged relative to this date; leave empty for today.",
    )
    customer_type = forms.ChoiceField(
        label="Customer type", required=False, choices=[ANY, *Customer.Type.choices]
    )
    credit_status = forms.ChoiceField(
        label="Credit status", required=False, choices=[ANY, *Customer.CreditStatus.choices]
    )
    min_outstanding = DecimalField(
        label="Minimum outstanding balance",
        required=False,
        max_digits=14,
        decimal_places=2,
        help_text="Only customers who owe at least this much.",
    )
    include_zero_balance = forms.BooleanField(
        label="Include customers with no balance",
        required=False,
        help_text="Left out by default: customers whose charges and payments even out.",
    )
    active = forms.ChoiceField(
        label="Active",
        required=False,
        choices=[
            ("", "Active and inactive"),
            ("active", "Active only"),
            ("inactive", "Inactive only"),
        ],
    )


# --- queries ------------------------------------------------------------

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
        outstanding=decimal_expr(F("charges") - F("payments")),
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
    if not filters.get("include_zero_balance"):
        # A customer who owes nothing and is owed nothing has no place in an aging list.
        qs = qs.exclude(outstanding=0)
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
        .values("customer__code", "customer__name", "date", "reference", "kind", "amount", "note")
    )


# --- the report ------------------------------------------------------------


@register
class CustomerAgingReport(Report):
    identifier = "customer-aging"
    name = "Customers & credit aging"
    order = 20
    description = (
        "Customer balances as of a date, with unpaid charges aged in 0–30, 31–60, 61–90 and "
        "90+ day buckets, customer details and recent credit transactions."
    )
    rules = (
        "Balance = charges − payments dated on or before the as-of date.",
        "Payments are applied to the oldest charges first (FIFO); the unpaid rest of each "
        "charge is aged by the charge's date relative to the as-of date.",
        "Buckets by days since the charge: 0–30, 31–60, 61–90, and more than 90 (90+).",
        "A charge with a negative amount (a credit note) counts as a payment.",
        "A customer who paid more than was charged has a negative balance (unapplied credit); "
        "it is not aged.",
        f"Recent transactions: the {RECENT_DAYS} days up to the as-of date.",
    )
    permission = export_code("customer")
    pdf_permission = export_pdf_code("customer")
    form_class = CustomerAgingReportForm
    sections = ("Customer Details", "Credit Aging", "Credit Transactions")

    def render(self, *, organization, params: dict[str, Any], writer, progress) -> dict:
        filters = self.clean_params(organization=organization, params=params).cleaned_data
        as_of = filters.get("as_of") or timezone.localdate()
        customers = aging_customers(organization=organization, filters=filters, as_of=as_of)
        aging = aging_by_customer(organization=organization, customers=customers, as_of=as_of)
        totals = customers.order_by().aggregate(
            count=Count("pk"),
            active=Count("pk", filter=Q(is_active=True)),
            blocked=Count("pk", filter=Q(credit_status=Customer.CreditStatus.BLOCKED)),
            credit_limit=decimal_sum(F("credit_limit")),
        )
        # Balances are summed in Python from the same grouped query the table uses, so the
        # summary and the table can never disagree.
        balance = owed = credit = ZERO
        with_balance = over_limit = 0
        for row in customers.values("outstanding", "credit_limit").iterator(chunk_size=5000):
            outstanding = dec(row["outstanding"])
            balance += outstanding
            if outstanding > 0:
                owed += outstanding
                with_balance += 1
                if outstanding > dec(row["credit_limit"]):
                    over_limit += 1
            elif outstanding < 0:
                credit -= outstanding
        buckets = [ZERO, ZERO, ZERO, ZERO]
        for a in aging.values():
            for i, amount in enumerate(a.buckets):
                buckets[i] += amount
        figures = {
            "as_of": as_of.isoformat(),
            "customers": totals["count"],
            "active_customers": totals["active"],
            "blocked_customers": totals["blocked"],
            "customers_with_balance": with_balance,
            "customers_over_limit": over_limit,
            "total_credit_limit": money(totals["credit_limit"]),
            "total_outstanding": money(owed),
            "unapplied_credit": money(credit),
            "net_balance": money(balance),
            "buckets": {label: money(b) for label, b in zip(BUCKETS, buckets, strict=True)},
        }
        writer.summary(
            "Summary",
            [
                ("As of", as_of),
                ("Customers", figures["customers"]),
                ("Active customers", figures["active_customers"]),
                ("Blocked customers", figures["blocked_customers"]),
                ("Customers with a balance", with_balance),
                ("Customers over their credit limit", over_limit),
                ("Total credit limit", figures["total_credit_limit"]),
                ("Total outstanding", figures["total_outstanding"]),
                *[
                    (f"Outstanding {label}", money(b))
                    for label, b in zip(BUCKETS, buckets, strict=True)
                ],
                ("Unapplied credit (overpayments)", figures["unapplied_credit"]),
                ("Net balance", figures["net_balance"]),
            ],
        )
        recent = recent_credit_transactions(
            organization=organization, customers=customers, as_of=as_of
        )
        counter = RowCounter(progress, totals["count"] + len(aging) + recent.count())

        details = Table(
            writer,
            "Customer Details",
            [
                Column("code", "Code", T.TEXT, nowrap=True),
                Column("name", "Name", T.TEXT),
                Column("type", "Type", T.TEXT),
                Column("email", "Email", T.TEXT),
                Column("phone", "Phone", T.TEXT),
                Column("city", "City", T.TEXT),
                Column("active", "Active", T.BOOLEAN),
                Column("credit_status", "Credit status", T.TEXT),
                Column("credit_limit", "Credit limit", T.MONEY),
                Column("charges", "Charges", T.MONEY),
                Column("payments", "Payments", T.MONEY),
                Column("outstanding", "Outstanding", T.MONEY),
                Column("available", "Available credit", T.MONEY),
                Column("orders", "Orders", T.INTEGER),
                Column("last_payment", "Last payment", T.DATE),
            ],
            pdf_skip=("email", "phone", "charges", "payments"),
        )
        rows = customers.values(
            "pk",
            "code",
            "name",
            "customer_type",
            "email",
            "phone",
            "city",
            "is_active",
            "credit_status",
            "credit_limit",
            "charges",
            "payments",
            "outstanding",
            "order_count",
            "last_payment",
        )
        for c in counter.each(rows.iterator(chunk_size=2000)):
            outstanding = dec(c["outstanding"])
            details.row(
                [
                    c["code"],
                    c["name"],
                    TYPE_LABELS.get(c["customer_type"], c["customer_type"]),
                    c["email"],
                    c["phone"],
                    c["city"],
                    c["is_active"],
                    CREDIT_LABELS.get(c["credit_status"], c["credit_status"]),
                    money(c["credit_limit"]),
                    money(c["charges"]),
                    money(c["payments"]),
                    money(outstanding),
                    money(dec(c["credit_limit"]) - outstanding),
                    c["order_count"],
                    c["last_payment"],
                ]
            )

        aging_table = Table(
            writer,
            "Credit Aging",
            [
                Column("code", "Code", T.TEXT, nowrap=True),
                Column("name", "Name", T.TEXT),
                Column("credit_limit", "Credit limit", T.MONEY),
                Column("outstanding", "Outstanding", T.MONEY),
                *[Column(f"bucket_{i}", label, T.MONEY) for i, label in enumerate(BUCKETS)],
                Column("oldest", "Oldest unpaid", T.DATE),
                Column("days", "Days overdue", T.INTEGER),
                Column("over_limit", "Over limit", T.BOOLEAN),
            ],
        )
        # Customers without unpaid charges are skipped while streaming (an IN list of ids
        # could pass the database's limit of query parameters).
        aged = (c for c in rows.iterator(chunk_size=2000) if c["pk"] in aging)
        for c in counter.each(aged):
            a = aging[c["pk"]]
            outstanding = dec(c["outstanding"])
            aging_table.row(
                [
                    c["code"],
                    c["name"],
                    money(c["credit_limit"]),
                    money(outstanding),
                    *[money(b) for b in a.buckets],
                    a.oldest_unpaid,
                    (as_of - a.oldest_unpaid).days,
                    outstanding > dec(c["credit_limit"]),
                ]
            )

        writer.section(
            "Credit Transactions",
            [
                Column("code", "Customer code", T.TEXT, nowrap=True),
                Column("name", "Customer", T.TEXT),
                Column("date", "Date", T.DATE),
                Column("reference", "Reference", T.TEXT, nowrap=True),
                Column("kind", "Kind", T.TEXT),
                Column("amount", "Amount", T.MONEY, total=False),
                Column("note", "Note", T.TEXT),
            ],
        )
        for t in counter.each(recent.iterator(chunk_size=2000)):
            writer.row(
                [
                    t["customer__code"],
                    t["customer__name"],
                    t["date"],
                    t["reference"],
                    KIND_LABELS.get(t["kind"], t["kind"]),
                    money(t["amount"]),
                    t["note"],
                ]
            )
        counter.finish()
        return {"rows": counter.done, "figures": figures}
