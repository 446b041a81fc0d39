"""Customer credit aging: buckets by FIFO, checked by hand and against an independent model."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from business.models import CreditTransaction, Customer
from tests.factories import CreditTransactionFactory, CustomerFactory
from tests.reports.test_ready_helpers import (
    cents,
    num,
    read_xlsx,
    run,
    run_json,
    xlsx_summary,
    xlsx_table,
)

D = Decimal
AS_OF = dt.date(2026, 6, 30)
BUCKETS = ("0–30 days", "31–60 days", "61–90 days", "90+ days")


def charge(customer, days_ago, amount, **kw):
    return CreditTransactionFactory(
        customer=customer,
        date=AS_OF - dt.timedelta(days=days_ago),
        kind="charge",
        amount=D(amount),
        **kw,
    )


def payment(customer, days_ago, amount):
    return CreditTransactionFactory(
        customer=customer,
        date=AS_OF - dt.timedelta(days=days_ago),
        kind="payment",
        amount=D(amount),
    )


def test_it_applies_payments_to_the_oldest_charges_first(org, tmp_path):
    c = CustomerFactory(organization=org, code="FIFO", credit_limit=D("1000"))
    charge(c, 100, "100.00")  # fully paid by the payment below
    charge(c, 45, "200.00")  # 50 of it paid: 150 left, 31–60 days
    charge(c, 10, "50.00")  # unpaid, 0–30 days
    payment(c, 5, "150.00")
    charge(c, -3, "999.00")  # after the as-of date: not counted at all
    data = run_json(org, "customer-aging", tmp_path, {"as_of": AS_OF.isoformat()})
    (row,) = data["Credit Aging"]
    assert row["code"] == "FIFO"
    assert [row[f"bucket_{i}"] for i in range(4)] == [D("50.00"), D("150.00"), 0, 0]
    assert row["outstanding"] == D("200.00")
    assert row["oldest"] == (AS_OF - dt.timedelta(days=45)).isoformat()
    assert row["days"] == 45
    s = data["summary"]
    assert s["Total outstanding"] == D("200.00")
    assert [s[f"Outstanding {b}"] for b in BUCKETS] == [D("50.00"), D("150.00"), 0, 0]


def test_it_puts_bucket_boundaries_on_30_60_and_90_days(org, tmp_path):
    c = CustomerFactory(organization=org, code="EDGE")
    for days, amount in [
        (0, "1"),
        (30, "2"),
        (31, "4"),
        (60, "8"),
        (61, "16"),
        (90, "32"),
        (91, "64"),
    ]:
        charge(c, days, amount)
    data = run_json(org, "customer-aging", tmp_path, {"as_of": AS_OF.isoformat()})
    (row,) = data["Credit Aging"]
    assert [row[f"bucket_{i}"] for i in range(4)] == [D("3.00"), D("12.00"), D("48.00"), D("64.00")]


def test_it_treats_credit_notes_as_payments_and_does_not_age_overpayments(org, tmp_path):
    paid_ahead = CustomerFactory(organization=org, code="AHEAD")
    charge(paid_ahead, 40, "100.00")
    payment(paid_ahead, 20, "130.00")
    noted = CustomerFactory(organization=org, code="NOTE")
    charge(noted, 70, "80.00")
    charge(noted, 5, "-30.00")  # a credit note
    data = run_json(org, "customer-aging", tmp_path, {"as_of": AS_OF.isoformat()})
    aging = {r["code"]: r for r in data["Credit Aging"]}
    assert set(aging) == {"NOTE"}
    assert [aging["NOTE"][f"bucket_{i}"] for i in range(4)] == [0, 0, D("50.00"), 0]
    details = {r["code"]: r for r in data["Customer Details"]}
    assert details["AHEAD"]["outstanding"] == D("-30.00")
    assert data["summary"]["Unapplied credit (overpayments)"] == D("30.00")
    assert data["summary"]["Total outstanding"] == D("50.00")
    assert data["summary"]["Net balance"] == D("20.00")


def fifo_model(transactions, as_of):
    """An independent FIFO: walk charges oldest first, spending a pool of credits."""
    charges = sorted(
        (t for t in transactions if t.kind == "charge" and t.amount > 0 and t.date <= as_of),
        key=lambda t: (t.date, t.pk),
    )
    pool = sum(
        (t.amount if t.kind == "payment" else -t.amount)
        for t in transactions
        if t.date <= as_of and (t.kind == "payment" or t.amount < 0)
    )
    pool = max(pool, D(0))
    buckets = [D(0)] * 4
    for t in charges:
        paid = min(pool, t.amount)
        pool -= paid
        left = t.amount - paid
        age = (as_of - t.date).days
        index = 0 if age <= 30 else 1 if age <= 60 else 2 if age <= 90 else 3
        buckets[index] += left
    return buckets


@pytest.fixture
def ledger(org, other_org):
    rng = random.Random(42)
    customers = []
    for i in range(12):
        c = CustomerFactory(
            organization=org,
            code=f"R{i:02d}",
            customer_type=rng.choice(["retail", "wholesale"]),
            credit_status=rng.choice(["good", "hold", "blocked"]),
            is_active=rng.random() > 0.2,
            credit_limit=D(rng.choice(["100", "500", "5000"])),
        )
        customers.append(c)
        for _ in range(rng.randint(0, 9)):
            days = rng.randint(-10, 150)
            if rng.random() < 0.65:
                charge(c, days, f"{rng.randint(1, 40000) / 100:.2f}")
            else:
                payment(c, days, f"{rng.randint(1, 30000) / 100:.2f}")
    rival = CustomerFactory(organization=other_org, code="R00")
    charge(rival, 95, "100000.00")
    return customers


def test_it_matches_an_independent_fifo_for_every_customer(org, ledger, tmp_path):
    data = run_json(org, "customer-aging", tmp_path, {"as_of": AS_OF.isoformat()})
    aging = {r["code"]: r for r in data["Credit Aging"]}
    totals = [D(0)] * 4
    for c in Customer.objects.filter(organization=org):
        txs = list(CreditTransaction.objects.filter(customer=c))
        buckets = fifo_model(txs, AS_OF)
        totals = [a + b for a, b in zip(totals, buckets, strict=True)]
        if sum(buckets) == 0:
            assert c.code not in aging
            continue
        assert [aging[c.code][f"bucket_{i}"] for i in range(4)] == [cents(b) for b in buckets]
    assert [data["summary"][f"Outstanding {b}"] for b in BUCKETS] == [cents(t) for t in totals]
    assert "R00" not in aging or aging["R00"]["bucket_3"] != D("100000.00")


def test_it_filters_customers_by_type_status_activity_and_balance(org, ledger, tmp_path):
    params = {
        "as_of": AS_OF.isoformat(),
        "customer_type": "wholesale",
        "active": "active",
        "min_outstanding": "100",
    }
    data = run_json(org, "customer-aging", tmp_path, params)
    expected = []
    for c in Customer.objects.filter(organization=org, customer_type="wholesale", is_active=True):
        txs = [t for t in CreditTransaction.objects.filter(customer=c) if t.date <= AS_OF]
        balance = sum((t.amount if t.kind == "charge" else -t.amount) for t in txs)
        if balance >= 100:
            expected.append((c.code, cents(balance)))
    got = [(r["code"], r["outstanding"]) for r in data["Customer Details"]]
    assert got == sorted(expected)
    assert data["summary"]["Customers"] == len(expected)
    held = run_json(
        org,
        "customer-aging",
        tmp_path,
        {"credit_status": "blocked", "include_zero_balance": "true"},
    )
    codes = {r["code"] for r in held["Customer Details"]}
    assert codes == set(
        Customer.objects.filter(organization=org, credit_status="blocked").values_list(
            "code", flat=True
        )
    )


def test_it_lists_recent_transactions_of_the_last_90_days(org, ledger, tmp_path):
    data = run_json(org, "customer-aging", tmp_path, {"as_of": AS_OF.isoformat()})
    since = AS_OF - dt.timedelta(days=90)
    want = CreditTransaction.objects.filter(
        organization=org, date__gt=since, date__lte=AS_OF
    ).count()
    assert len(data["Credit Transactions"]) == want
    assert all(
        since.isoformat() < r["date"] <= AS_OF.isoformat() for r in data["Credit Transactions"]
    )


def test_it_leaves_out_customers_without_a_balance_unless_asked(org, tmp_path):
    owing = CustomerFactory(organization=org, code="OWES")
    CreditTransactionFactory(customer=owing, amount=Decimal("80.00"), date=AS_OF)
    settled = CustomerFactory(organization=org, code="EVEN")
    CreditTransactionFactory(customer=settled, amount=Decimal("50.00"), date=AS_OF)
    CreditTransactionFactory(customer=settled, kind="payment", amount=Decimal("50.00"), date=AS_OF)
    CustomerFactory(organization=org, code="NONE")
    params = {"as_of": AS_OF.isoformat()}
    data = run_json(org, "customer-aging", tmp_path, params)
    assert [r["code"] for r in data["Customer Details"]] == ["OWES"]
    assert data["summary"]["Customers"] == 1
    everyone = run_json(org, "customer-aging", tmp_path, {**params, "include_zero_balance": True})
    assert [r["code"] for r in everyone["Customer Details"]] == ["EVEN", "NONE", "OWES"]
    assert everyone["summary"]["Total outstanding"] == data["summary"]["Total outstanding"]


def test_it_writes_four_xlsx_sheets(org, ledger, tmp_path):
    params = {"as_of": AS_OF.isoformat(), "include_zero_balance": "true"}
    path, _, _ = run(org, "customer-aging", "xlsx", tmp_path, params)
    sheets = read_xlsx(path)
    assert list(sheets) == ["Summary", "Customer Details", "Credit Aging", "Credit Transactions"]
    data = run_json(org, "customer-aging", tmp_path, params)
    summary = xlsx_summary(sheets["Summary"])
    for b in BUCKETS:
        assert num(summary[f"Outstanding {b}"]) == data["summary"][f"Outstanding {b}"]
    assert (
        len(xlsx_table(sheets["Customer Details"]))
        == Customer.objects.filter(organization=org).count()
    )
    assert len(xlsx_table(sheets["Credit Aging"])) == len(data["Credit Aging"])


ledger_entries = st.lists(
    st.tuples(
        st.sampled_from(["charge", "payment"]),
        st.integers(min_value=-5, max_value=200),  # days before the as-of date (negative: after)
        st.decimals(min_value="-50", max_value="5000", places=2),
    ),
    max_size=12,
)


@hyp_settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(entries=ledger_entries)
def test_it_agrees_with_the_fifo_model_on_any_ledger(org, tmp_path_factory, entries):
    # Each example adds its own customer; the organization is shared on purpose.
    customer = CustomerFactory(organization=org)
    for kind, days, amount in entries:
        (charge if kind == "charge" else payment)(customer, days, str(amount))
    tmp = tmp_path_factory.mktemp("aging")
    data = run_json(org, "customer-aging", tmp, {"as_of": AS_OF.isoformat()})
    rows = {r["code"]: r for r in data["Credit Aging"]}
    buckets = fifo_model(list(CreditTransaction.objects.filter(customer=customer)), AS_OF)
    if sum(buckets) == 0:
        assert customer.code not in rows
    else:
        assert [rows[customer.code][f"bucket_{i}"] for i in range(4)] == [cents(b) for b in buckets]
