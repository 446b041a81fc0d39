"""seed_demo: a coherent, deterministic, idempotent demo business."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import F
from django.test import Client

from accounts.models import Membership, Organization
from business import models as m
from business.demo import BASE, DEMO_SLUG, demo_seed
from business.resources import registry

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 6, 30)


@pytest.fixture
def demo():
    return demo_seed(scale=1, seed=42, today=TODAY)


def snapshot(org) -> dict[str, list]:
    """The content of an organization's records, without ids and timestamps."""
    q = {"organization": org}
    return {
        "accounts": list(m.Account.objects.filter(**q).values_list("name", "city", "industry")),
        "contacts": list(
            m.Contact.objects.filter(**q)
            .order_by("email")
            .values_list("email", "first_name", "account__name", "lifecycle_stage", "birth_date")
        ),
        "leads": list(m.Lead.objects.filter(**q).values_list("email", "status", "estimated_value")),
        "categories": list(
            m.ProductCategory.objects.filter(**q).values_list("name", "parent__name")
        ),
        "products": list(
            m.Product.objects.filter(**q).values_list(
                "sku", "name", "category__name", "parent__sku", "unit_cost", "list_price"
            )
        ),
        "customers": list(
            m.Customer.objects.filter(**q).values_list(
                "code", "name", "customer_type", "credit_limit", "credit_status", "is_active"
            )
        ),
        "credit": list(
            m.CreditTransaction.objects.filter(**q)
            .order_by("reference")
            .values_list("reference", "customer__code", "date", "kind", "amount")
        ),
        "orders": list(
            m.SalesOrder.objects.filter(**q)
            .order_by("number")
            .values_list("number", "customer__code", "order_date", "status", "warehouse__code")
        ),
        "lines": list(
            m.SalesOrderLine.objects.filter(**q)
            .order_by("order__number", "line_number")
            .values_list(
                "order__number",
                "line_number",
                "product__sku",
                "quantity",
                "unit_price",
                "unit_cost",
                "discount",
                "tax",
            )
        ),
        "stock": list(
            m.StockItem.objects.filter(**q)
            .order_by("product__sku", "warehouse__code")
            .values_list("product__sku", "warehouse__code", "quantity", "reorder_level")
        ),
        "movements": list(
            m.StockMovement.objects.filter(**q)
            .order_by("reference")
            .values_list("reference", "product__sku", "from_warehouse__code", "quantity", "date")
        ),
        "audit": list(
            m.AuditEvent.objects.filter(**q)
            .order_by("object_id")
            .values_list("object_id", "event_type", "user__username", "ip_address")
        ),
    }


def test_it_builds_the_demo_organization_users_and_hundreds_of_each_record(demo):
    org = Organization.objects.get(slug=DEMO_SLUG)
    assert org.name == "Demo Trading Co."
    assert demo.organization == org
    roles = dict(Membership.objects.filter(organization=org).values_list("user__username", "role"))
    assert roles == {"admin": "admin", "manager": "manager", "ops": "ops"}
    for resource in registry.all():
        count = resource.queryset(org).count()
        assert count == demo.totals[resource.name]
        if resource.name not in ("product-categories", "warehouses"):
            assert count >= 100, resource.name
    assert demo.totals["contacts"] == BASE["contacts"]
    # The printed passwords work.
    for username, password in (
        ("admin", "ferry-admin"),
        ("manager", "ferry-manager"),
        ("ops", "ferry-ops"),
    ):
        assert Client().login(username=username, password=password)


def test_it_is_idempotent(demo):
    again = demo_seed(scale=1, seed=42, today=TODAY)
    assert again.organization == demo.organization
    assert again.totals == demo.totals
    assert again.rows_created == 0
    assert Organization.objects.filter(slug=DEMO_SLUG).count() == 1
    assert Membership.objects.filter(organization=demo.organization).count() == 3


def test_it_tops_up_to_a_larger_scale_without_duplicating(demo):
    before = snapshot(demo.organization)
    bigger = demo_seed(scale=2, seed=42, today=TODAY)
    assert bigger.totals["contacts"] == 2 * BASE["contacts"]
    assert bigger.totals["sales-orders"] == 2 * BASE["sales-orders"]
    after = snapshot(demo.organization)
    # What scale 1 made is untouched, and is the beginning of what scale 2 makes.
    assert set(before["contacts"]) <= set(after["contacts"])
    assert set(before["lines"]) <= set(after["lines"])


def test_it_is_deterministic_for_a_seed():
    a = demo_seed(scale=1, seed=7, org_name="Seed Seven A", today=TODAY)
    b = demo_seed(scale=1, seed=7, org_name="Seed Seven B", today=TODAY)
    c = demo_seed(scale=1, seed=8, org_name="Seed Eight", today=TODAY)
    assert a.organization != b.organization
    snap_a, snap_b = snapshot(a.organization), snapshot(b.organization)
    for name in snap_a:
        assert snap_a[name] == snap_b[name], name
    snap_c = snapshot(c.organization)
    assert snap_c["contacts"] != snap_a["contacts"]
    assert snap_c["lines"] != snap_a["lines"]


def _aging(org, today: dt.date) -> dict[str, Decimal]:
    """Outstanding charges per bucket, payments set against each customer's oldest charges."""
    buckets = {"0-30": Decimal(0), "31-60": Decimal(0), "61-90": Decimal(0), "90+": Decimal(0)}
    charges: dict[int, list] = defaultdict(list)
    paid: dict[int, Decimal] = defaultdict(Decimal)
    for customer_id, date, kind, amount in (
        m.CreditTransaction.objects.filter(organization=org)
        .order_by("date", "reference")
        .values_list("customer_id", "date", "kind", "amount")
    ):
        if kind == "charge":
            charges[customer_id].append([date, amount])
        else:
            paid[customer_id] += amount
    for customer_id, items in charges.items():
        credit = paid[customer_id]
        for item in items:  # oldest first
            used = min(credit, item[1])
            item[1] -= used
            credit -= used
            age = (today - item[0]).days
            key = "0-30" if age <= 30 else "31-60" if age <= 60 else "61-90" if age <= 90 else "90+"
            buckets[key] += item[1]
    return buckets


def test_it_fills_every_credit_aging_bucket(demo):
    org = demo.organization
    dates = m.CreditTransaction.objects.filter(organization=org).values_list("date", flat=True)
    assert min(dates) >= TODAY - dt.timedelta(days=120)
    assert max(dates) <= TODAY
    buckets = _aging(org, TODAY)
    assert all(amount > 0 for amount in buckets.values()), buckets
    kinds = set(m.CreditTransaction.objects.filter(organization=org).values_list("kind", flat=True))
    assert kinds == {"charge", "payment"}


def test_it_links_variants_to_their_parents(demo):
    variants = m.Product.objects.filter(
        organization=demo.organization, parent__isnull=False
    ).select_related("parent")
    assert variants.count() >= 50
    for variant in variants:
        base, _, suffix = variant.sku.partition("-")
        assert variant.parent.sku == base and suffix
        assert variant.parent.parent_id is None
        assert variant.organization_id == variant.parent.organization_id
    parents = m.Product.objects.filter(organization=demo.organization, parent__isnull=True)
    assert all("-" not in sku for sku in parents.values_list("sku", flat=True))


def test_it_builds_a_coherent_business(demo):
    org = demo.organization
    q = {"organization": org}
    # Nested categories, products in the leaves.
    assert m.ProductCategory.objects.filter(**q, parent__isnull=False).exists()
    assert not m.Product.objects.filter(**q, category__parent__isnull=True).exists()
    # Warehouses and stores.
    assert {True, False} == set(m.Warehouse.objects.filter(**q).values_list("is_store", flat=True))
    # Customers of both kinds, some on hold, blocked or inactive.
    customers = m.Customer.objects.filter(**q)
    assert set(customers.values_list("customer_type", flat=True)) == {"retail", "wholesale"}
    assert set(customers.values_list("credit_status", flat=True)) == {"good", "hold", "blocked"}
    assert customers.filter(is_active=False).exists()
    assert not customers.filter(credit_limit__lte=0).exists()
    # Orders over about six months, in every status; lines cost what their product costs.
    orders = m.SalesOrder.objects.filter(**q)
    assert set(orders.values_list("status", flat=True)) == {
        "draft",
        "confirmed",
        "invoiced",
        "cancelled",
    }
    order_dates = list(orders.values_list("order_date", flat=True))
    assert (TODAY - min(order_dates)).days > 150 and max(order_dates) <= TODAY
    lines = m.SalesOrderLine.objects.filter(**q)
    assert lines.count() >= orders.count()
    assert not lines.exclude(unit_cost=F("product__unit_cost")).exists()
    assert not lines.exclude(product__organization=org).exists()
    assert not orders.filter(lines__isnull=True).exists()
    # Stock: some out, some low, most fine.
    stock = m.StockItem.objects.filter(**q)
    assert stock.filter(quantity=0).exists()
    assert stock.filter(quantity__gt=0, quantity__lt=F("reorder_level")).exists()
    assert stock.filter(quantity__gte=F("reorder_level")).count() > stock.count() / 2
    # Contacts belong to the demo accounts (by name), some have none.
    contacts = m.Contact.objects.filter(**q)
    assert contacts.filter(account__isnull=True).exists()
    assert not contacts.exclude(account__isnull=True).exclude(account__organization=org).exists()
    # Audit events by the demo users.
    users = set(
        m.AuditEvent.objects.filter(**q).values_list("user__username", flat=True).distinct()
    )
    assert users == {"admin", "manager", "ops"}


def test_it_coexists_with_other_organizations_using_the_same_keys(other_org):
    m.Contact.objects.create(organization=other_org, email="ada.adams1@example.com")
    m.Product.objects.create(organization=other_org, sku="10000", name="Theirs")
    demo = demo_seed(scale=1, seed=42, today=TODAY)
    assert m.Product.objects.filter(sku="10000").count() == 2
    assert m.Product.objects.get(organization=other_org, sku="10000").name == "Theirs"
    assert m.Contact.objects.filter(organization=other_org).count() == 1
    assert (
        demo.totals["products"] == m.Product.objects.filter(organization=demo.organization).count()
    )


def test_it_prints_what_it_did_and_the_credentials():
    out = io.StringIO()
    call_command("seed_demo", "--seed", "3", stdout=out)
    text = out.getvalue()
    assert 'Organization "Demo Trading Co." (slug demo): created.' in text
    assert "admin / ferry-admin  (admin)" in text
    assert "manager / ferry-manager  (manager)" in text
    assert "ops / ferry-ops  (ops)" in text
    assert "contacts" in text
    out = io.StringIO()
    call_command("seed_demo", "--seed", "3", stdout=out)
    assert "0 rows created" in out.getvalue()
    assert "already there" in out.getvalue()


def test_it_lets_the_demo_admin_into_the_django_admin_for_the_demo_only(demo, other_org):
    m.Customer.objects.create(organization=other_org, code="C000001", name="Not demo")
    client = Client()
    assert client.login(username="admin", password="ferry-admin")
    response = client.get("/django-admin/business/customer/")
    assert response.status_code == 200
    orgs = {c.organization_id for c in response.context["cl"].result_list}
    assert orgs == {demo.organization.pk}
    assert not get_user_model().objects.get(username="admin").is_superuser
