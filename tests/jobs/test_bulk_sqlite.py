"""SQLite rows go in INSERT statements of many rows each (``jobs.bulk._sqlite_insert``): every
row arrives, in order, with its own key and values, whether the batch fills whole statements,
leaves a remainder, or meets a lower limit on a statement's parameters than usual."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from django.db import connection, transaction
from django.utils import timezone

from business.models import Contact
from jobs import bulk
from jobs.bulk import inserter_for
from wizard.engine.writing import InstanceFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's INSERT path"),
]


def _rows(n):
    return [
        {
            "email": f"c{i}@example.com",
            "first_name": f"Zoë {i}",
            "notes": "line\nbreak" if i % 7 == 0 else "",
            "birth_date": dt.date(1980, 1, 1) + dt.timedelta(days=i) if i % 3 else None,
            "do_not_email": bool(i % 2),
        }
        for i in range(n)
    ]


def _defaults(org):
    """What the import gives a row's missing attributes."""
    return InstanceFactory(Contact, organization_id=org.pk, defaults={}).base


def _insert(org, rows):
    with transaction.atomic():
        ids = inserter_for(Contact).insert(
            rows,
            now=timezone.now(),
            defaults=_defaults(org),
        )
    by_pk = Contact.objects.in_bulk(ids)
    return ids, [by_pk[pk] for pk in ids]


def _check(rows, ids, stored):
    assert ids == list(range(ids[0], ids[0] + len(rows)))
    assert len(stored) == len(rows)
    for row, obj in zip(rows, stored, strict=True):
        assert (obj.email, obj.first_name, obj.notes, obj.birth_date, obj.do_not_email) == (
            row["email"],
            row["first_name"],
            row["notes"],
            row["birth_date"],
            row["do_not_email"],
        )


@pytest.mark.parametrize("n", [1, 7, 21, 23])
def test_whole_statements_and_a_remainder(org, monkeypatch, n):
    monkeypatch.setattr(bulk, "SQLITE_ROWS_PER_STATEMENT", 7)
    rows = _rows(n)
    ids, stored = _insert(org, rows)
    _check(rows, ids, stored)


def test_a_low_parameter_limit_gives_smaller_statements(org):
    connection.ensure_connection()
    raw = connection.connection
    saved = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    # 17 columns a row: 40 parameters hold two rows, where 500 rows would need 8,500.
    raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 40)
    try:
        rows = _rows(25)
        ids, stored = _insert(org, rows)
    finally:
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, saved)
    _check(rows, ids, stored)


def test_a_refused_row_leaves_nothing_of_the_batch(org):
    rows = _rows(30)
    rows[25]["email"] = rows[3]["email"]  # the unique e-mail per organization
    with pytest.raises(Exception, match="UNIQUE"):
        _insert(org, rows)
    assert not Contact.objects.filter(organization=org).exists()


def test_rows_go_straight_to_sqlite3_not_through_djangos_query_rewriting(org, monkeypatch):
    # Django's cursor wrapper rewrites "%s" to "?" in every query with a regular expression,
    # which on statements of thousands of parameters cost 2 % of an import's time.
    from django.db.backends.sqlite3.base import SQLiteCursorWrapper

    rewrite = SQLiteCursorWrapper.convert_query

    def refuse(self, query, *args, **kwargs):
        assert not query.startswith("INSERT"), f"rewritten: {query[:40]}"
        return rewrite(self, query, *args, **kwargs)

    monkeypatch.setattr(SQLiteCursorWrapper, "convert_query", refuse)
    rows = _rows(12)
    with transaction.atomic():
        ids = inserter_for(Contact).insert(rows, now=timezone.now(), defaults=_defaults(org))
    assert Contact.objects.filter(pk__in=ids).count() == 12


def test_json_and_dates_are_stored_as_django_stores_them(org):
    """The inserter makes a JSON object's text and a date's text itself (not through the
    field's layers, nor the driver's adapter): the stored text is the one Django's save()
    stores for the same values."""
    from business.models import Product

    values = {
        "attributes": {"colour": "Zoë's blue", "sizes": [1, 2.5, None], "ok": True},
        "name": "Reel",
    }
    saved = Product.objects.create(organization=org, sku="BY-DJANGO", **values)
    base = InstanceFactory(Product, organization_id=org.pk, defaults={}).base
    with transaction.atomic():
        (pk,) = inserter_for(Product).insert(
            [{"sku": "BY-INSERTER", **values}], now=timezone.now(), defaults=base
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attributes FROM business_product WHERE id IN (%s, %s) ORDER BY id",
            [saved.pk, pk],
        )
        (django_text,), (inserter_text,) = cursor.fetchall()
    assert inserter_text == django_text
    born = dt.date(1815, 12, 10)
    contact = Contact.objects.create(organization=org, email="d@x.com", birth_date=born)
    ids, _ = _insert(org, [{"email": "i@x.com", "birth_date": born}])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT birth_date FROM business_contact WHERE id IN (%s, %s) ORDER BY id",
            [contact.pk, ids[0]],
        )
        assert [r[0] for r in cursor.fetchall()] == [born, born]
        cursor.execute(
            "SELECT typeof(birth_date), birth_date || '' FROM business_contact WHERE id = %s",
            [ids[0]],
        )
        assert cursor.fetchone() == ("text", "1815-12-10")
