"""Property: rows shaped like an export (the resource's export columns, written to CSV from
records) imported and read back give the same records."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from business.models import Account, Contact, Product, ProductCategory
from business.resources import FieldType, resource_get
from tests.wizard.test_engine import draft, media_in_tmp  # noqa: F401
from wizard.services import import_run_now

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Co", "Cn")),
    max_size=40,
).map(str.strip)
EMAIL = st.from_regex(
    r"[a-z0-9]{1,12}(\.[a-z0-9]{1,6})?@[a-z]{1,10}\.(com|org|de|fr)", fullmatch=True
)
NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9 &'.,-]{0,20}[A-Za-z0-9]", fullmatch=True)


def cell(field, value) -> str:
    """A value written the way an export writes it."""
    if value is None:
        return ""
    if field.type == FieldType.BOOLEAN:
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def export_csv(path, resource, records: list[dict]) -> None:
    fields = [f for f in resource.default_export_fields() if f.importable]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([f.label for f in fields])
        for record in records:
            writer.writerow([cell(f, record.get(f.name)) for f in fields])


def read_back(resource, org, names) -> list[dict]:
    fields = [resource.get_field(n) for n in names]
    rows = (
        resource.queryset(org).order_by(*resource.key).values_list(*[f.export_path for f in fields])
    )
    return [dict(zip(names, row, strict=True)) for row in rows]


contact = st.fixed_dictionaries(
    {
        "email": EMAIL,
        "first_name": TEXT.map(lambda t: t[:100]),
        "last_name": TEXT.map(lambda t: t[:100]),
        "account": st.one_of(st.none(), NAME),
        "phone": st.from_regex(r"\+?[0-9 ()-]{0,20}", fullmatch=True).map(str.strip),
        "title": TEXT.map(lambda t: t[:100]),
        "lifecycle_stage": st.sampled_from(["lead", "prospect", "customer"]),
        "source": TEXT.map(lambda t: t[:100]),
        "do_not_email": st.booleans(),
        "birth_date": st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31))),
    }
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=st.lists(contact, min_size=1, max_size=12, unique_by=lambda r: r["email"]))
def test_it_reads_back_exported_contacts_unchanged(org, owner, tmp_path, records):
    Contact.objects.all().delete()
    Account.objects.all().delete()
    resource = resource_get("contacts")
    path = tmp_path / "contacts.csv"
    export_csv(path, resource, records)
    job = import_run_now(job=draft(org, owner, "contacts", path, create_missing={"account": True}))
    assert job.status == "completed", job.error_message
    assert job.summary["failed"] == 0, job.summary["errors"]
    names = list(records[0])
    for record in records:
        record["account"] = record["account"] or None
    assert read_back(resource, org, names) == sorted(records, key=lambda r: r["email"])


MONEY = st.decimals(min_value=Decimal("-999999.99"), max_value=Decimal("999999.99"), places=2)
product = st.fixed_dictionaries(
    {
        "sku": st.from_regex(r"[A-Z0-9]{3,10}", fullmatch=True),
        "name": NAME,
        "category": st.one_of(st.none(), NAME),
        "barcode": st.from_regex(r"[0-9]{0,13}", fullmatch=True),
        "unit_cost": MONEY,
        "list_price": MONEY,
        "is_manufactured": st.booleans(),
        "is_purchased": st.booleans(),
        "is_active": st.booleans(),
    }
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=st.lists(product, min_size=1, max_size=10, unique_by=lambda r: r["sku"]))
def test_it_reads_back_exported_products_unchanged(org, owner, tmp_path, records):
    Product.objects.all().delete()
    ProductCategory.objects.all().delete()
    resource = resource_get("products")
    path = tmp_path / "products.csv"
    export_csv(path, resource, records)
    job = import_run_now(job=draft(org, owner, "products", path, create_missing={"category": True}))
    assert job.status == "completed", job.error_message
    assert job.summary["failed"] == 0, job.summary["errors"]
    names = list(records[0])
    assert read_back(resource, org, names) == sorted(records, key=lambda r: r["sku"])
