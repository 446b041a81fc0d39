"""The demo business: "Demo Trading Co.", a hardware wholesaler with shops.

``demo_seed`` builds a coherent data set (accounts and their contacts, leads, a nested product
catalog with variants, warehouses and stores, customers with credit, credit transactions over
the last 120 days, six months of sales orders whose lines use real products, stock, movements
and an audit trail) for the demo organization and its three users.

Deterministic: every block of records draws from its own ``random.Random`` seeded with the
seed, the record type and the block number, so a record's content depends only on its position
and the seed, never on what already exists. Dates are offsets from today, so aging buckets
and "last six months" always have data; everything else is reproducible for a seed.

Idempotent: records are identified by their natural keys; a second run finds them and creates
nothing, a run with a larger ``scale`` tops up. Children (variants, order lines, stock items)
are written with their parent in one transaction, so a parent that exists has its children.

Fast: rows are built as plain dicts in blocks of ``BLOCK`` and written with one
``executemany``/``COPY`` per block (no model instances, no signals, no query per row); related
records are looked up once per block into dictionaries.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import random
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Membership, Organization
from accounts.permissions import Role
from business import models as m
from business.bulk import inserter_for

DEMO_NAME = "Demo Trading Co."
DEMO_SLUG = "demo"
BLOCK = 5000
CENT = Decimal("0.01")
TAX_RATE = Decimal("0.20")

# Volumes at scale 1; ``--scale N`` multiplies each. The category tree and the warehouses are
# the shape of the business, not volume, and stay fixed.
BASE = {
    "accounts": 150,
    "contacts": 1000,
    "leads": 300,
    "products": 120,  # parent products; about half get 1–4 variants
    "customers": 200,
    "credit-transactions": 1000,
    "sales-orders": 500,  # 1–5 lines each
    "stock-movements": 400,
    "audit-events": 300,
}

# What its invoices and reports print: a UK business, so pounds and British formats.
DEMO_ORG_SETTINGS = {
    "address_line1": "Unit 4, Canal Wharf",
    "address_line2": "Whitehall Road",
    "postal_code": "LS12 1BE",
    "city": "Leeds",
    "country": "United Kingdom",
    "vat_number": "GB 123 4567 89",
    "email": "accounts@demo-trading.example.com",
    "phone": "+44 113 496 0000",
    "website": "demo-trading.example.com",
    "currency": "GBP",
    "locale": "en-GB",
}

DEMO_USERS = (
    ("admin", "ferry-admin", Role.ADMIN, "Alex", "Admin"),
    ("manager", "ferry-manager", Role.MANAGER, "Morgan", "Manager"),
    ("ops", "ferry-ops", Role.OPS, "Olivia", "Ops"),
)

FIRST_NAMES = (
    "Ada", "Alan", "Amelia", "Ben", "Chloé", "Dana", "Elif", "Emma", "Farah", "George",
    "Grace", "Hannah", "Hugo", "Isla", "Jack", "José", "Kai", "Lena", "Liam", "Maya",
    "Mohammed", "Nina", "Noah", "Olga", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Sofia",
    "Tom", "Uma", "Victor", "Wei", "Yusuf", "Zoë", "Aisha", "Carlos", "Freya", "Kenji",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Baker", "Brown", "Chen", "Clarke", "Davies", "Evans", "Fischer", "García",
    "Green", "Hall", "Hughes", "Jones", "Khan", "Kowalski", "Lee", "Lewis", "Martin",
    "Müller", "Murphy", "Nguyen", "O'Brien", "Patel", "Roberts", "Rossi", "Singh", "Smith",
    "Taylor", "Thomas", "Walker", "White", "Williams", "Wilson", "Wright", "Young", "Novak",
)  # fmt: skip
NAME_PREFIXES = (
    "North", "South", "East", "West", "Blue", "Red", "Green", "Silver", "Golden", "Iron",
    "Oak", "Cedar", "River", "Harbour", "Summit", "Bright", "Prime", "Union", "Royal", "Swift",
)  # fmt: skip
NAME_ROOTS = (
    "wind", "stone", "field", "bridge", "gate", "wood", "brook", "vale", "ford", "mill",
    "point", "crest", "haven", "ridge", "well", "marsh", "light", "works", "line", "way",
)  # fmt: skip
NAME_KINDS = (
    "Traders", "Builders", "Supplies", "Hardware", "Construction", "Interiors", "Homes",
    "Logistics", "Engineering", "Joinery", "Property Services", "Retail",
)  # fmt: skip
INDUSTRIES = (
    "Construction", "Retail", "Property management", "Facilities", "Manufacturing",
    "Hospitality", "Education", "Public sector",
)  # fmt: skip
CITIES = (
    "Leeds", "Manchester", "Birmingham", "Bristol", "London", "Glasgow", "Cardiff",
    "Sheffield", "Nottingham", "Newcastle", "Liverpool", "York", "Brighton", "Oxford",
)  # fmt: skip
COUNTRIES = ("United Kingdom",) * 8 + ("Ireland", "France", "Germany", "Netherlands")
TITLES = (
    "Buyer", "Purchasing Manager", "Site Manager", "Owner", "Director", "Office Manager",
    "Project Manager", "Accounts Payable", "Foreman", "Facilities Manager", "",
)  # fmt: skip
SOURCES = ("Website", "Trade show", "Referral", "Cold call", "Newsletter", "Partner", "Walk-in")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")
POSTCODE_AREAS = {
    "Leeds": "LS", "Manchester": "M", "Birmingham": "B", "Bristol": "BS", "London": "EC",
    "Glasgow": "G", "Cardiff": "CF", "Sheffield": "S", "Nottingham": "NG", "Newcastle": "NE",
    "Liverpool": "L", "York": "YO", "Brighton": "BN", "Oxford": "OX",
}  # fmt: skip
STREETS = ("High Street", "Station Road", "Mill Lane", "Church Road", "Park Avenue", "Quay Side")

# Category tree: parent → children. Products go into the leaves.
CATEGORY_TREE = {
    "Tools": ("Hand tools", "Power tools", "Measuring"),
    "Hardware": ("Fasteners", "Hinges & locks", "Brackets"),
    "Paint & decorating": ("Interior paint", "Exterior paint", "Brushes & rollers"),
    "Electrical": ("Cables", "Lighting", "Switches & sockets"),
    "Plumbing": ("Pipes & fittings", "Taps", "Valves"),
    "Garden": ("Garden tools", "Watering"),
}
PRODUCT_WORDS = {
    "Hand tools": ("Claw hammer", "Screwdriver set", "Chisel", "Hand saw", "Pliers", "Spanner set"),
    "Power tools": ("Cordless drill", "Impact driver", "Jigsaw", "Angle grinder", "Sander"),
    "Measuring": ("Tape measure", "Spirit level", "Laser level", "Try square"),
    "Fasteners": ("Wood screws", "Wall plugs", "Hex bolts", "Coach screws", "Nails"),
    "Hinges & locks": ("Butt hinge", "Padlock", "Door latch", "Mortice lock", "Hasp"),
    "Brackets": ("Shelf bracket", "Angle bracket", "Joist hanger", "Corner brace"),
    "Interior paint": ("Matt emulsion", "Silk emulsion", "Eggshell", "Primer"),
    "Exterior paint": ("Masonry paint", "Wood stain", "Fence paint", "Gloss"),
    "Brushes & rollers": ("Paint brush", "Roller kit", "Paint tray", "Masking tape"),
    "Cables": ("Twin & earth cable", "Flex cable", "Extension lead", "Cable clips"),
    "Lighting": ("LED bulb", "Floodlight", "Batten light", "Downlight"),
    "Switches & sockets": ("Double socket", "Light switch", "Fused spur", "USB socket"),
    "Pipes & fittings": ("Copper pipe", "Push-fit elbow", "Compression tee", "Pipe clip"),
    "Taps": ("Mixer tap", "Basin tap", "Outdoor tap", "Bath filler"),
    "Valves": ("Isolating valve", "Gate valve", "Radiator valve", "Check valve"),
    "Garden tools": ("Spade", "Rake", "Pruning shears", "Wheelbarrow"),
    "Watering": ("Garden hose", "Hose reel", "Sprinkler", "Watering can"),
}
VARIANT_SUFFIXES = (
    ("BE", "beige"), ("BK", "black"), ("WH", "white"), ("RD", "red"), ("GR", "grey"),
    ("S", "small"), ("M", "medium"), ("L", "large"), ("XL", "extra large"),
)  # fmt: skip
WAREHOUSES = (
    ("WH-MAIN", "Central Warehouse", "Leeds", False),
    ("WH-NORTH", "Northern Depot", "Newcastle", False),
    ("WH-SOUTH", "Southern Depot", "Southampton", False),
    ("ST-LDN", "London Store", "London", True),
    ("ST-MAN", "Manchester Store", "Manchester", True),
    ("ST-BHM", "Birmingham Store", "Birmingham", True),
    ("ST-BRS", "Bristol Store", "Bristol", True),
)


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


# --- helpers ----------------------------------------------------------------------------------


def rows_write(model: type[models.Model], rows: list[dict], *, now: dt.datetime) -> None:
    """INSERT rows (dicts keyed by column attname) as fast as the database allows.

    Django's bulk_create prepares every value through the field API (about 10 µs per value),
    which alone would make a million 15-column contacts take minutes; the import engine's
    inserter (COPY on PostgreSQL, executemany on SQLite) takes the trusted demo values as they
    are. Missing columns get the field default; auto_now(_add) columns get ``now``.
    """
    if not rows:
        return
    inserter = inserter_for(model)
    defaults = {f.attname: f.get_default() for f in inserter.fields}
    inserter.insert(rows, now=now, defaults=defaults)


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@functools.lru_cache(maxsize=4096)
def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _blocks(total: int) -> Iterator[tuple[int, int, int]]:
    for number, start in enumerate(range(0, total, BLOCK)):
        yield number, start, min(total, start + BLOCK)


class _Seeder:
    def __init__(self, *, organization: Organization, scale: int, seed: int, today: dt.date):
        self.org = organization
        self.org_id = organization.pk
        self.scale = scale
        self.seed = seed
        self.today = today
        self.now = timezone.now()
        self.created: dict[str, int] = {}
        self.warehouse_list: list[tuple[int, bool]] = []
        # Company names: a fixed shuffle of prefix × root × kind, numbered once exhausted.
        combos = [f"{p}{r} {k}" for p in NAME_PREFIXES for r in NAME_ROOTS for k in NAME_KINDS]
        random.Random(f"{seed}:company-names").shuffle(combos)
        self.company_combos = combos

    # -- plumbing ------------------------------------------------------------------------------
    def rng(self, label: str, block: int) -> random.Random:
        return random.Random(f"{self.seed}:{label}:{block}")

    def count(self, label: str) -> int:
        return BASE[label] * self.scale

    def company_name(self, i: int) -> str:
        n = len(self.company_combos)
        name = self.company_combos[i % n]
        return name if i < n else f"{name} {i // n + 1}"

    def _existing(self, model, key: str, keys: list) -> set:
        found: set = set()
        # Chunked: SQLite caps the number of parameters in one statement.
        for start in range(0, len(keys), 2000):
            found.update(
                model._default_manager.filter(
                    organization_id=self.org_id, **{f"{key}__in": keys[start : start + 2000]}
                ).values_list(key, flat=True)
            )
        return found

    def insert(
        self,
        label: str,
        model: type[models.Model],
        rows: list[dict],
        *,
        key: str | None,
        check: bool,
        after: Callable[[list[dict]], None] | None = None,
    ) -> list[dict]:
        """Write the rows whose key is new (all of them when ``check`` is False).

        ``after`` runs in the same transaction, so children are written with their parents.
        """
        if check and key is not None and rows:
            existing = self._existing(model, key, [row[key] for row in rows])
            if existing:
                rows = [row for row in rows if row[key] not in existing]
        if not rows:
            return []
        with transaction.atomic():
            self.write(label, model, rows)
            if after is not None:
                after(rows)
        return rows

    def write(self, label: str, model: type[models.Model], rows: list[dict]) -> None:
        if rows:
            rows_write(model, rows, now=self.now)
            self.created[label] = self.created.get(label, 0) + len(rows)

    def pks(self, model, key: str, keys: list) -> dict:
        """Natural key → primary key for rows just written (one query per 2,000 keys)."""
        found: dict = {}
        for start in range(0, len(keys), 2000):
            found.update(
                model._default_manager.filter(
                    organization_id=self.org_id, **{f"{key}__in": keys[start : start + 2000]}
                ).values_list(key, "pk")
            )
        return found

    def has_rows(self, model) -> bool:
        return model._default_manager.filter(organization_id=self.org_id).exists()

    def key_map(self, model, key: str) -> dict:
        return dict(
            model._default_manager.filter(organization_id=self.org_id).values_list(key, "pk")
        )

    def days_ago(self, days: int) -> dt.date:
        return self.today - dt.timedelta(days=days)

    # -- CRM -------------------------------------------------------------------------------------
    def accounts(self) -> None:
        check = self.has_rows(m.Account)
        for block, start, stop in _blocks(self.count("accounts")):
            rng = self.rng("accounts", block)
            objs = []
            for i in range(start, stop):
                name = self.company_name(i)
                objs.append(
                    dict(
                        organization_id=self.org_id,
                        name=name,
                        website=f"https://www.{_ascii(name)[:40]}.example.com",
                        industry=rng.choice(INDUSTRIES),
                        phone=f"+44 {rng.randint(1000, 9999)} {rng.randint(100000, 999999)}",
                        city=rng.choice(CITIES),
                        country=rng.choice(COUNTRIES),
                        legacy_id=f"ACC-{i + 1:06d}",
                    )
                )
            self.insert("accounts", m.Account, objs, key="name", check=check)

    def contacts(self) -> None:
        by_name = self.key_map(m.Account, "name")
        account_ids = [by_name.get(self.company_name(i)) for i in range(self.count("accounts"))]
        stages = (m.Contact.Stage.LEAD, m.Contact.Stage.PROSPECT, m.Contact.Stage.CUSTOMER)
        check = self.has_rows(m.Contact)
        total = self.count("contacts")
        if check and m.Contact.objects.filter(organization_id=self.org_id).count() >= total:
            # Every contact of this scale is there: skip building a million objects to find
            # out (contacts are a leaf, nothing else hangs off them).
            return
        for block, start, stop in _blocks(total):
            rng = self.rng("contacts", block)
            choice, random_ = rng.choice, rng.random
            objs = []
            for i in range(start, stop):
                first, last = choice(FIRST_NAMES), choice(LAST_NAMES)
                r = random_()
                objs.append(
                    dict(
                        organization_id=self.org_id,
                        email=f"{_ascii(first)}.{_ascii(last)}{i + 1}@{choice(EMAIL_DOMAINS)}",
                        first_name=first,
                        last_name=last,
                        account_id=choice(account_ids) if r < 0.85 else None,
                        phone=f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
                        title=choice(TITLES),
                        lifecycle_stage=stages[0 if r < 0.45 else 1 if r < 0.7 else 2],
                        source=choice(SOURCES),
                        do_not_email=random_() < 0.08,
                        birth_date=(
                            dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 18000))
                            if random_() < 0.3
                            else None
                        ),
                        legacy_id=f"CRM-{i + 1:07d}",
                    )
                )
            self.insert("contacts", m.Contact, objs, key="email", check=check)

    def leads(self) -> None:
        statuses = list(m.Lead.Status.values)
        check = self.has_rows(m.Lead)
        for block, start, stop in _blocks(self.count("leads")):
            rng = self.rng("leads", block)
            objs = []
            for i in range(start, stop):
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                company = self.company_name(len(self.company_combos) - 1 - (i % 2000))
                objs.append(
                    dict(
                        organization_id=self.org_id,
                        email=f"{_ascii(first)}.{_ascii(last)}.lead{i + 1}@{rng.choice(EMAIL_DOMAINS)}",
                        first_name=first,
                        last_name=last,
                        company_name=company,
                        source=rng.choice(SOURCES),
                        status=rng.choices(statuses, weights=(40, 30, 20, 10))[0],
                        estimated_value=(
                            _money(rng.randint(5, 400) * 50) if rng.random() < 0.8 else None
                        ),
                    )
                )
            self.insert("leads", m.Lead, objs, key="email", check=check)

    # -- catalog ---------------------------------------------------------------------------------
    def categories(self) -> list[int]:
        """The fixed tree; returns the leaf category ids in a stable order."""
        existing = self.key_map(m.ProductCategory, "name")
        parents = [
            dict(organization_id=self.org_id, name=name)
            for name in CATEGORY_TREE
            if name not in existing
        ]
        self.insert("product-categories", m.ProductCategory, parents, key=None, check=False)
        existing = self.key_map(m.ProductCategory, "name")
        children = [
            dict(organization_id=self.org_id, name=child, parent_id=existing[parent])
            for parent, kids in CATEGORY_TREE.items()
            for child in kids
            if child not in existing
        ]
        self.insert("product-categories", m.ProductCategory, children, key=None, check=False)
        existing = self.key_map(m.ProductCategory, "name")
        return [existing[child] for kids in CATEGORY_TREE.values() for child in kids]

    def products(self, leaf_ids: list[int]) -> None:
        leaves = [child for kids in CATEGORY_TREE.values() for child in kids]
        check = self.has_rows(m.Product)
        for block, start, stop in _blocks(self.count("products")):
            rng = self.rng("products", block)
            parents, variants = [], []
            for i in range(start, stop):
                leaf = rng.randrange(len(leaves))
                word = rng.choice(PRODUCT_WORDS[leaves[leaf]])
                sku = str(10000 + 100 * i)
                cost = _money(rng.uniform(0.8, 180))
                price = _money(cost * Decimal(str(rng.uniform(1.25, 2.2))))
                manufactured = rng.random() < 0.15
                parent = dict(
                    organization_id=self.org_id,
                    sku=sku,
                    name=f"{word} {rng.choice(('Pro', 'Trade', 'Classic', 'Max', 'Eco', ''))}".strip()
                    + f" {sku}",
                    category_id=leaf_ids[leaf],
                    barcode=f"50{rng.randint(10**10, 10**11 - 1)}",
                    unit_cost=cost,
                    list_price=price,
                    is_manufactured=manufactured,
                    is_purchased=not manufactured or rng.random() < 0.3,
                    is_active=rng.random() < 0.95,
                    description=f"{word} for trade and home use.",
                )
                parents.append(parent)
                if rng.random() < 0.5:
                    for code, label in rng.sample(VARIANT_SUFFIXES, rng.randint(1, 4)):
                        variants.append(
                            (
                                parent,
                                dict(
                                    organization_id=self.org_id,
                                    sku=f"{sku}-{code}",
                                    name=f"{parent['name']} ({label})",
                                    category_id=parent["category_id"],
                                    barcode=f"50{rng.randint(10**10, 10**11 - 1)}",
                                    unit_cost=_money(cost * Decimal("1.05")),
                                    list_price=_money(price * Decimal("1.05")),
                                    is_manufactured=parent["is_manufactured"],
                                    is_purchased=parent["is_purchased"],
                                    is_active=parent["is_active"],
                                ),
                            )
                        )
            stock_rng = self.rng("stock-items", block)

            def after(created_parents, variants=variants, stock_rng=stock_rng):
                parent_pks = self.pks(m.Product, "sku", [p["sku"] for p in created_parents])
                new_variants = []
                for parent, variant in variants:
                    if parent["sku"] in parent_pks:
                        variant["parent_id"] = parent_pks[parent["sku"]]
                        new_variants.append(variant)
                self.write("products", m.Product, new_variants)
                pks = parent_pks | self.pks(m.Product, "sku", [v["sku"] for v in new_variants])
                # Stock for every new product, drawn in generation order (parents, then variants).
                self.stock_items(stock_rng, [pks[p["sku"]] for p in created_parents + new_variants])

            self.insert("products", m.Product, parents, key="sku", check=check, after=after)

    # -- inventory -------------------------------------------------------------------------------
    def warehouses(self) -> list[tuple[int, bool]]:
        existing = self.key_map(m.Warehouse, "code")
        objs = [
            dict(organization_id=self.org_id, code=code, name=name, city=city, is_store=store)
            for code, name, city, store in WAREHOUSES
            if code not in existing
        ]
        self.insert("warehouses", m.Warehouse, objs, key=None, check=False)
        existing = self.key_map(m.Warehouse, "code")
        return [(existing[code], store) for code, _, _, store in WAREHOUSES]

    def stock_items(self, rng: random.Random, product_ids: list[int]) -> None:
        items = []
        for product_id in product_ids:
            for wh_id, _store in rng.sample(self.warehouse_list, rng.randint(1, 3)):
                reorder = Decimal(rng.choice((5, 10, 20, 25, 50)))
                r = rng.random()
                if r < 0.08:
                    quantity = Decimal(0)  # out of stock
                elif r < 0.2:
                    quantity = Decimal(rng.randint(1, int(reorder) - 1))  # low
                else:
                    quantity = Decimal(rng.randint(int(reorder), 400))
                items.append(
                    dict(
                        organization_id=self.org_id,
                        product_id=product_id,
                        warehouse_id=wh_id,
                        quantity=quantity,
                        reorder_level=reorder,
                        location=f"{rng.choice('ABCDEFGH')}{rng.randint(1, 30):02d}-{rng.randint(1, 6)}",
                        status=m.StockItem.Status.IN_STOCK,
                    )
                )
        self.write("stock-items", m.StockItem, items)

    def stock_movements(self, product_ids: list[int]) -> None:
        wh_ids = [wh for wh, store in self.warehouse_list if not store]
        store_ids = [wh for wh, store in self.warehouse_list if store]
        check = self.has_rows(m.StockMovement)
        for block, start, stop in _blocks(self.count("stock-movements")):
            rng = self.rng("stock-movements", block)
            objs = []
            for i in range(start, stop):
                kind = rng.random()
                if kind < 0.4:  # receipt from a supplier
                    src, dst, note = None, rng.choice(wh_ids), "Goods received"
                elif kind < 0.85:  # replenish a store
                    src, dst, note = rng.choice(wh_ids), rng.choice(store_ids), "Store transfer"
                else:  # written off / issued
                    src, dst, note = rng.choice(wh_ids + store_ids), None, "Issued"
                objs.append(
                    dict(
                        organization_id=self.org_id,
                        reference=f"MV-{i + 1:07d}",
                        product_id=rng.choice(product_ids),
                        from_warehouse_id=src,
                        to_warehouse_id=dst,
                        quantity=Decimal(rng.randint(1, 120)),
                        date=self.days_ago(rng.randint(0, 120)),
                        note=note,
                    )
                )
            self.insert("stock-movements", m.StockMovement, objs, key="reference", check=check)

    # -- sales -----------------------------------------------------------------------------------
    def customers(self) -> None:
        check = self.has_rows(m.Customer)
        for block, start, stop in _blocks(self.count("customers")):
            rng = self.rng("customers", block)
            objs = []
            for i in range(start, stop):
                wholesale = rng.random() < 0.35
                if wholesale:
                    name = self.company_name(i + 7)
                    limit = _money(rng.randint(10, 100) * 500)
                else:
                    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                    limit = _money(rng.randint(1, 10) * 250)
                r = rng.random()
                objs.append(
                    dict(
                        organization_id=self.org_id,
                        code=f"C{i + 1:06d}",
                        name=name,
                        customer_type=m.Customer.Type.WHOLESALE
                        if wholesale
                        else m.Customer.Type.RETAIL,
                        email=f"accounts{i + 1}@{rng.choice(EMAIL_DOMAINS)}",
                        phone=f"+44 {rng.randint(1000, 9999)} {rng.randint(100000, 999999)}",
                        address=f"{rng.randint(1, 250)} {rng.choice(STREETS)}",
                        city=(city := rng.choice(CITIES)),
                        # From the position, not the generator: earlier seeds keep their data.
                        postal_code=f"{POSTCODE_AREAS[city]}{i % 20 + 1} {i % 9 + 1}"
                        f"{'ABDEFGHJLN'[i % 10]}{'PQRSTUWXYZ'[i // 10 % 10]}",
                        country="United Kingdom",
                        credit_limit=limit,
                        credit_status=(
                            m.Customer.CreditStatus.GOOD
                            if r < 0.85
                            else m.Customer.CreditStatus.HOLD
                            if r < 0.95
                            else m.Customer.CreditStatus.BLOCKED
                        ),
                        is_active=rng.random() < 0.93,
                        legacy_id=f"POS-{i + 1:06d}",
                    )
                )
            self.insert("customers", m.Customer, objs, key="code", check=check)

    def credit_transactions(self, customers: list[tuple[int, str, Decimal]]) -> None:
        """Charges spread over 0–120 days ago, payments mostly recent and partial.

        A third of the customers never pay in the window, so after payments are set against
        the oldest charges every aging bucket (0–30, 31–60, 61–90, 90+) still holds money.
        """
        check = self.has_rows(m.CreditTransaction)
        for block, start, stop in _blocks(self.count("credit-transactions")):
            rng = self.rng("credit-transactions", block)
            objs = []
            for i in range(start, stop):
                index = rng.randrange(len(customers))
                customer_id, _type, limit = customers[index]
                payer = index % 3 != 0
                if payer and rng.random() < 0.3:
                    kind = m.CreditTransaction.Kind.PAYMENT
                    days = rng.randint(0, 45)
                    amount = _money(
                        max(Decimal("10"), limit) * Decimal(str(rng.uniform(0.02, 0.1)))
                    )
                    note = rng.choice(("Bank transfer", "Card payment", "Cheque"))
                else:
                    kind = m.CreditTransaction.Kind.CHARGE
                    days = rng.randint(0, 120)
                    amount = _money(
                        max(Decimal("10"), limit) * Decimal(str(rng.uniform(0.03, 0.2)))
                    )
                    note = f"Invoice INV-{rng.randint(10000, 99999)}"
                objs.append(
                    dict(
                        organization_id=self.org_id,
                        reference=f"CT-{i + 1:07d}",
                        customer_id=customer_id,
                        date=self.days_ago(days),
                        kind=kind,
                        amount=amount,
                        note=note,
                    )
                )
            self.insert(
                "credit-transactions", m.CreditTransaction, objs, key="reference", check=check
            )

    def sales_orders(
        self, customers: list[tuple[int, str, Decimal]], products: list[tuple]
    ) -> None:
        statuses = list(m.SalesOrder.Status.values)  # draft, confirmed, invoiced, cancelled
        check = self.has_rows(m.SalesOrder)
        wholesale = m.Customer.Type.WHOLESALE
        for block, start, stop in _blocks(self.count("sales-orders")):
            rng = self.rng("sales-orders", block)
            orders, lines = [], []
            for i in range(start, stop):
                customer_id, customer_type, _limit = customers[rng.randrange(len(customers))]
                wh_id, _store = rng.choice(self.warehouse_list)
                order = dict(
                    organization_id=self.org_id,
                    number=f"SO-{i + 1:07d}",
                    customer_id=customer_id,
                    order_date=self.days_ago(rng.randint(0, 182)),
                    status=rng.choices(statuses, weights=(12, 23, 55, 10))[0],
                    warehouse_id=wh_id,
                )
                orders.append(order)
                for line_number, (product_id, cost, price) in enumerate(
                    rng.sample(products, rng.randint(1, 5)), start=1
                ):
                    big = customer_type == wholesale
                    quantity = Decimal(rng.randint(5, 60) if big else rng.randint(1, 6))
                    unit_price = _money(price * Decimal("0.85")) if big else price
                    gross = quantity * unit_price
                    discount = (
                        _money(gross * Decimal("0.05")) if rng.random() < 0.15 else Decimal(0)
                    )
                    lines.append(
                        (
                            order,
                            dict(
                                organization_id=self.org_id,
                                line_number=line_number,
                                product_id=product_id,
                                quantity=quantity,
                                unit_price=unit_price,
                                unit_cost=cost,
                                discount=discount,
                                tax=_money((gross - discount) * TAX_RATE),
                                tax_rate=TAX_RATE * 100,
                            ),
                        )
                    )

            def after(created, lines=lines):
                order_pks = self.pks(m.SalesOrder, "number", [o["number"] for o in created])
                objs = []
                for order, line in lines:
                    if order["number"] in order_pks:
                        line["order_id"] = order_pks[order["number"]]
                        objs.append(line)
                self.write("sales-order-lines", m.SalesOrderLine, objs)

            self.insert(
                "sales-orders", m.SalesOrder, orders, key="number", check=check, after=after
            )

    # -- audit -----------------------------------------------------------------------------------
    def audit_events(self, users: list) -> None:
        total = self.count("audit-events")
        done = m.AuditEvent.objects.filter(
            organization_id=self.org_id, details__has_key="demo"
        ).count()
        types = (
            (m.AuditEvent.Type.LOGIN, 40),
            (m.AuditEvent.Type.LOGOUT, 25),
            (m.AuditEvent.Type.IMPORT, 12),
            (m.AuditEvent.Type.EXPORT, 12),
            (m.AuditEvent.Type.REPORT, 8),
            (m.AuditEvent.Type.TEMPLATE, 3),
        )
        kinds, weights = zip(*types, strict=True)
        objects = {
            m.AuditEvent.Type.IMPORT: ("contacts.csv", "products.xlsx", "orders.csv", "stock.xlsx"),
            m.AuditEvent.Type.EXPORT: ("customers.xlsx", "contacts.csv", "products.json"),
            m.AuditEvent.Type.REPORT: ("Sales", "Customers & credit aging", "Inventory valuation"),
            m.AuditEvent.Type.TEMPLATE: ("Weekly contacts", "POS products"),
        }
        for block, start, stop in _blocks(total):
            rng = self.rng("audit-events", block)
            objs = []
            for i in range(start, stop):
                user = rng.choice(users)
                kind = rng.choices(kinds, weights=weights)[0]
                if kind in objects:
                    object_type, object_repr = "file", rng.choice(objects[kind])
                else:
                    object_type, object_repr = "auth.User", user.get_username()
                moment = self.now - dt.timedelta(seconds=rng.randint(0, 60 * 86400))
                if i < done:
                    continue
                objs.append(
                    dict(
                        organization_id=self.org_id,
                        time=moment,
                        user_id=user.pk,
                        event_type=kind,
                        object_type=object_type,
                        object_id=f"demo-{i + 1}",
                        object_repr=object_repr,
                        details={"demo": i + 1},
                        ip_address=f"10.0.{rng.randint(0, 20)}.{rng.randint(2, 250)}",
                    )
                )
            self.insert("audit-events", m.AuditEvent, objs, key=None, check=False)


# --- the service ------------------------------------------------------------------------------


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
