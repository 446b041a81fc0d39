"""Customers & credit aging: who owes what, and for how long."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.permissions import export_code, export_pdf_code
from business.models import CreditTransaction, Customer
from business.resources import FieldType as T
from business.writers import Column
from reports.ready import selectors
from reports.ready.base import ZERO, Report, RowCounter, Table, dec, money
from reports.ready.forms import CustomerAgingReportForm
from reports.ready.registry import register

TYPE_LABELS = dict(Customer.Type.choices)
CREDIT_LABELS = dict(Customer.CreditStatus.choices)
KIND_LABELS = dict(CreditTransaction.Kind.choices)


@register
class CustomerAgingReport(Report):
    identifier = "customer-aging"
    name = "Customers & credit aging"
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
        f"Recent transactions: the {selectors.RECENT_DAYS} days up to the as-of date.",
    )
    permission = export_code("customer")
    pdf_permission = export_pdf_code("customer")
    form_class = CustomerAgingReportForm
    sections = ("Customer Details", "Credit Aging", "Credit Transactions")

    def render(self, *, organization, params: dict[str, Any], writer, progress) -> dict:
        filters = self.clean_params(organization=organization, params=params).cleaned_data
        as_of = filters.get("as_of") or timezone.localdate()
        customers = selectors.aging_customers(
            organization=organization, filters=filters, as_of=as_of
        )
        aging = selectors.aging_by_customer(
            organization=organization, customers=customers, as_of=as_of
        )
        totals = customers.order_by().aggregate(
            count=Count("pk"),
            active=Count("pk", filter=Q(is_active=True)),
            blocked=Count("pk", filter=Q(credit_status=Customer.CreditStatus.BLOCKED)),
            credit_limit=selectors.decimal_sum(F("credit_limit")),
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
            "buckets": {
                label: money(b) for label, b in zip(selectors.BUCKETS, buckets, strict=True)
            },
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
                    for label, b in zip(selectors.BUCKETS, buckets, strict=True)
                ],
                ("Unapplied credit (overpayments)", figures["unapplied_credit"]),
                ("Net balance", figures["net_balance"]),
            ],
        )
        recent = selectors.recent_credit_transactions(
            organization=organization, customers=customers, as_of=as_of
        )
        counter = RowCounter(progress, totals["count"] + len(aging) + recent.count())

        details = Table(
            writer,
            "Customer Details",
            [
                Column("code", "Code", T.TEXT),
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
                Column("code", "Code", T.TEXT),
                Column("name", "Name", T.TEXT),
                Column("credit_limit", "Credit limit", T.MONEY),
                Column("outstanding", "Outstanding", T.MONEY),
                *[
                    Column(f"bucket_{i}", label, T.MONEY)
                    for i, label in enumerate(selectors.BUCKETS)
                ],
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
                Column("code", "Customer code", T.TEXT),
                Column("name", "Customer", T.TEXT),
                Column("date", "Date", T.DATE),
                Column("reference", "Reference", T.TEXT),
                Column("kind", "Kind", T.TEXT),
                Column("amount", "Amount", T.MONEY),
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
