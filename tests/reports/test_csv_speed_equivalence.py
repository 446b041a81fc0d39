"""The fast CSV and JSON export paths write exactly what the plain per-cell rules say.

The expected files are built here the slow, obvious way — one ``values_list`` row at a time,
each cell through ``text_value``/``neutralize`` (CSV) or ``json_value`` (JSON) — and the
exports must match them byte for byte over a few thousand mixed rows: dates, aware date-times,
decimals, booleans, None, choice labels and codes, JSON objects, references, formulas, phone
numbers and unicode.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from business.models import AuditEvent, Contact, Product
from business.resources import FieldType, resource_get
from business.writers.base import FORMULA_PREFIXES, formula_risk, neutralize, text_value
from business.writers.jsonfile import json_value
from reports.exporters import NullProgress, export_render
from reports.exports.selectors import export_fields, export_queryset
from tests.factories import AccountFactory, ProductCategoryFactory

ROWS = 2500
TEXTS = [
    "plain",
    "",
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "-12.50",
    "+41 44 668 18 00",
    "@SUM(A1:A2)",
    "\tTabbed",
    "\rReturn",
    "Zoë O'Brien, Jr. — 東京 🚀",
    'The "boss"\nsecond line',
    "-",
    "semi;colon",
]


def text(i: int) -> str:
    return TEXTS[i % len(TEXTS)]


@pytest.fixture
def mixed_records(org, other_org):
    accounts = [AccountFactory(organization=org, name=n) for n in ("Acme", "=Evil", "Zürich AG")]
    categories = [ProductCategoryFactory(organization=org, name=n) for n in ("Tools", "@Cat")]
    stages = [s for s, _ in Contact.Stage.choices]
    Contact.objects.bulk_create(
        Contact(
            organization=org,
            email=f"p{i}@example.com" if i % 17 else f"=p{i}@example.com",
            first_name=text(i),
            last_name=text(i + 3),
            account=accounts[i % 3] if i % 4 else None,
            phone=text(i + 5),
            title=text(i + 7),
            lifecycle_stage=stages[i % len(stages)],
            source=text(i + 1),
            do_not_email=i % 3 == 0,
            birth_date=None if i % 5 == 0 else dt.date(1901, 1, 1) + dt.timedelta(days=i * 13),
            legacy_id=text(i + 2),
        )
        for i in range(ROWS)
    )
    products = Product.objects.bulk_create(
        Product(
            organization=org,
            sku=f"SKU-{i:05d}" if i % 11 else f"-{i}",
            name=text(i),
            category=categories[i % 2] if i % 3 else None,
            barcode=text(i + 4),
            unit_cost=Decimal(i) / 100 - 5,
            list_price=Decimal("1234567.89") if i % 7 == 0 else Decimal("0.00"),
            is_manufactured=i % 2 == 0,
            is_purchased=i % 3 == 0,
            is_active=i % 5 != 0,
            description=text(i + 6),
            legacy_id=text(i + 8),
            attributes={} if i % 4 else {"grade": text(i), "n": i, "ok": True, "x": None},
        )
        for i in range(ROWS)
    )
    for i, product in enumerate(products[1:200], 1):
        product.parent = products[i - 1]
    Product.objects.bulk_update(products[1:200], ["parent"])
    base = timezone.make_aware(dt.datetime(2026, 3, 29, 0, 30))  # a DST change in Europe
    AuditEvent.objects.bulk_create(
        AuditEvent(
            organization=org,
            time=base + dt.timedelta(minutes=37 * i, microseconds=i),
            event_type=AuditEvent.Type.choices[i % len(AuditEvent.Type.choices)][0],
            object_type=text(i),
            object_id=str(i),
            object_repr=text(i + 2),
            ip_address=None if i % 2 else "10.0.0.1",
        )
        for i in range(ROWS)
    )
    # Another organization's records never leave in this one's files.
    Contact.objects.create(organization=other_org, email="other@example.com", first_name="=X")


def reference_values(org, resource, columns, *, labels: bool):
    fields = export_fields(resource=resource, columns=columns)
    queryset = export_queryset(resource=resource, organization=org, filters={})
    rows = []
    for row in queryset.values_list(*[f.export_path for f in fields]):
        cells = []
        for field, value in zip(fields, row, strict=True):
            if labels and field.type == FieldType.CHOICE and value is not None:
                value = dict(field.choices).get(value, value)
            if field.type == FieldType.JSON and value is not None:
                value = json.dumps(value, ensure_ascii=False, sort_keys=True)
            cells.append(value)
        rows.append(cells)
    return fields, rows


def reference_csv(org, resource, columns, *, labels=True, delimiter=",", bom=False) -> bytes:
    fields, rows = reference_values(org, resource, columns, labels=labels)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([neutralize(f.label) for f in fields])
    for row in rows:
        writer.writerow([neutralize(v) if isinstance(v, str) else text_value(v) for v in row])
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


def reference_json(org, resource, columns) -> bytes:
    fields, rows = reference_values(org, resource, columns, labels=True)
    objects = [
        "{"
        + ", ".join(
            f"{json.dumps(f.name)}: {json_value(v)}" for f, v in zip(fields, row, strict=True)
        )
        + "}"
        for row in rows
    ]
    return ("[\n" + ",\n".join(objects) + "\n]\n" if objects else "[]\n").encode()


def exported(org, tmp_path, name, format, params) -> bytes:
    path = tmp_path / f"{name}.{format}"
    result = export_render(
        organization=org,
        exporter=name,
        format=format,
        params=params,
        path=path,
        progress=NullProgress(),
    )
    assert result["rows"] == ROWS
    return path.read_bytes()


RESOURCES = ("contacts", "products", "audit-events")


def test_it_writes_the_same_csv_bytes_as_the_per_cell_rules(org, mixed_records, tmp_path):
    for name in RESOURCES:
        resource = resource_get(name)
        columns = [f.name for f in resource.fields]
        got = exported(org, tmp_path, name, "csv", {"columns": columns})
        assert got == reference_csv(org, resource, columns), name
        assert b"=X" not in got


def test_it_writes_the_same_csv_bytes_with_codes_a_bom_and_another_delimiter(
    org, mixed_records, tmp_path
):
    resource = resource_get("contacts")
    columns = ["birth_date", "lifecycle_stage", "phone", "first_name", "do_not_email", "account"]
    got = exported(
        org,
        tmp_path,
        "contacts",
        "csv",
        {"columns": columns, "options": {"choice_codes": True, "bom": True, "delimiter": ";"}},
    )
    assert got == reference_csv(org, resource, columns, labels=False, delimiter=";", bom=True)


def test_it_writes_the_same_json_bytes_as_the_per_cell_rules(org, mixed_records, tmp_path):
    for name in RESOURCES:
        resource = resource_get(name)
        columns = [f.name for f in resource.fields]
        got = exported(org, tmp_path, name, "json", {"columns": columns})
        assert got == reference_json(org, resource, columns), name
        assert len(json.loads(got)) == ROWS


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="=+-@\t\r0123 ().,a\x00\n'\"é", max_size=8))
def test_it_keeps_the_formula_rule_in_one_pattern(text):
    # The rule as it reads: a formula character first, and not only digits, spaces and ( ) . , + -
    plain_number = re.fullmatch(r"[0-9 ().,+-]+", text) is not None
    assert formula_risk(text) == (text[:1] in FORMULA_PREFIXES and not plain_number)
    assert neutralize(text) == ("'" + text if formula_risk(text) else text)
