"""``demo_seed``: the demo organization and its users, then every record type in order, with
the seconds each step took.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Membership, Organization
from business import models as m
from business.demo.catalog import CatalogSeeding
from business.demo.crm import CrmSeeding
from business.demo.data import DEMO_NAME, DEMO_ORG_SETTINGS, DEMO_SLUG, DEMO_USERS
from business.demo.sales import SalesSeeding


@dataclass
class DemoResult:
    organization: Organization
    scale: int
    seed: int
    created: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    users: list[dict] = field(default_factory=list)
    organization_created: bool = False
    seconds: float = 0.0
    # Seconds per step (a step may write several tables, e.g. orders with their lines).
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def rows_created(self) -> int:
        return sum(self.created.values())


class _Seeder(CrmSeeding, CatalogSeeding, SalesSeeding):
    """Every record type's steps over the shared plumbing."""


def _demo_users(organization: Organization) -> list[dict]:
    User = get_user_model()
    out = []
    for username, password, role, first, last in DEMO_USERS:
        user = User._default_manager.filter(username=username).first()
        created = user is None
        if created:
            user = User._default_manager.create_user(
                username=username,
                password=password,
                email=f"{username}@demo.example.com",
                first_name=first,
                last_name=last,
            )
            # No is_staff/is_superuser: the org-scoped admin lets an org admin in, and a
            # superuser would see every organization's rows there, not just the demo's.
        Membership.objects.get_or_create(
            user=user, organization=organization, defaults={"role": role}
        )
        out.append(
            {
                "username": username,
                "password": password,
                "role": role,
                "created": created,
                # A user that existed before keeps its password; say so rather than print a lie.
                "password_ok": created or user.check_password(password),
            }
        )
    return out


def demo_seed(
    *, scale: int = 1, seed: int = 42, org_name: str = DEMO_NAME, today: dt.date | None = None
) -> DemoResult:
    """Create (or top up) the demo organization, its users and its business records."""
    if scale < 1:
        raise ValueError("scale must be 1 or more")
    started = time.perf_counter()
    slug = DEMO_SLUG if org_name == DEMO_NAME else slugify(org_name)[:80]
    organization, org_created = Organization.objects.get_or_create(
        slug=slug, defaults={"name": org_name, **DEMO_ORG_SETTINGS}
    )
    users = _demo_users(organization)
    with _sqlite_cache(SQLITE_CACHE_KIB):
        return _seed(
            organization=organization,
            org_created=org_created,
            users=users,
            scale=scale,
            seed=seed,
            today=today,
            started=started,
        )


# SQLite's default page cache (2 MB) makes every insert into a large, randomly ordered index
# (contacts by e-mail, lines by product) re-read its pages from the OS: at a million rows the
# seed spends most of its time in read() calls. A bigger cache for this connection, while
# seeding only, keeps the hot index pages in memory.
SQLITE_CACHE_KIB = 256 * 1024


@contextlib.contextmanager
def _sqlite_cache(kib: int):
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _seed(*, organization, org_created, users, scale, seed, today, started) -> DemoResult:
    seeder = _Seeder(
        organization=organization, scale=scale, seed=seed, today=today or timezone.localdate()
    )

    timings: dict[str, float] = {}

    def step(label: str, fn, *args):
        began = time.perf_counter()
        value = fn(*args)
        timings[label] = timings.get(label, 0.0) + time.perf_counter() - began
        return value

    step("accounts", seeder.accounts)
    step("contacts", seeder.contacts)
    step("leads", seeder.leads)
    leaf_ids = step("product-categories", seeder.categories)
    seeder.warehouse_list = step("warehouses", seeder.warehouses)
    # Products carry their variants and their stock items.
    step("products + stock-items", seeder.products, leaf_ids)
    step("customers", seeder.customers)

    org_id = organization.pk
    customers = list(
        m.Customer.objects.filter(organization_id=org_id)
        .order_by("code")
        .values_list("pk", "customer_type", "credit_limit")
    )
    products = list(
        m.Product.objects.filter(organization_id=org_id, is_active=True)
        .order_by("sku")
        .values_list("pk", "unit_cost", "list_price")
    )
    step("credit-transactions", seeder.credit_transactions, customers)
    step("sales-orders + lines", seeder.sales_orders, customers, products)
    step("stock-movements", seeder.stock_movements, [p[0] for p in products])
    user_objs = list(
        get_user_model()._default_manager.filter(username__in=[u[0] for u in DEMO_USERS])
    )
    user_objs.sort(key=lambda u: u.username)
    step("audit-events", seeder.audit_events, user_objs)

    totals = {}
    from business.resources import registry

    for resource in registry.all():
        totals[resource.name] = resource.queryset(organization).count()
    return DemoResult(
        organization=organization,
        scale=scale,
        seed=seed,
        created=dict(seeder.created),
        totals=totals,
        users=users,
        organization_created=org_created,
        seconds=time.perf_counter() - started,
        timings=timings,
    )
