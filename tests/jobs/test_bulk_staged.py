"""Rows made ready ahead on one thread (``TableInserter.stage``: keys reserved, rows in COPY's
text format) insert exactly what the direct insert writes, for every kind of value the
import writes: text with tabs, newlines and backslashes, accents, blanks and NULLs, dates,
aware date-times, decimals, booleans, JSON."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from business.models import Contact, Product
from jobs.bulk import inserter_for
from jobs.models import JobLogEntry
from wizard.models import ImportChange

pytestmark = pytest.mark.django_db

AWKWARD = ["tab\there", "line\nbreak\r\nmore", "back\\slash \\N", "Zoë Ørsted — 東京", "", "'\"%"]


def _defaults(model, **values):
    """What the import gives a row's missing attributes: the model's defaults
    (``InstanceFactory.base``)."""
    proto = model(**values)
    return {k: v for k, v in proto.__dict__.items() if k != "_state"}


def _both(model, rows, *, defaults=None):
    """Insert ``rows`` directly and staged; the two sets of records read back, keyed by the
    order they were given in (primary keys differ)."""
    inserter = inserter_for(model)
    now = timezone.now()

    def read(pks):
        by_pk = {o.pk: o for o in model.objects.filter(pk__in=pks)}
        out = []
        for pk in pks:
            values = dict(by_pk[pk].__dict__)
            for name in ("_state", "id", "created_at", "updated_at"):
                values.pop(name, None)
            out.append(values)
        return out

    with transaction.atomic():
        direct = inserter.insert(rows, now=now, defaults=defaults)
    first = read(direct)
    model.objects.filter(pk__in=direct).delete()  # unique keys: the second insert repeats them
    staged = inserter.stage(rows, now=now, defaults=defaults)
    assert staged.payload, "formatted by psycopg's COPY code"
    with transaction.atomic():
        ids = inserter.insert(rows, now=now, defaults=defaults, staged=staged)
    assert ids == staged.ids and not set(ids) & set(direct)
    return first, read(ids)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="keys are staged on PostgreSQL only")
def test_staged_contacts_are_the_direct_ones(org):
    rows = [
        {
            "email": f"p{i}@x.com",
            "first_name": text,
            "notes": text * 3,
            "birth_date": dt.date(1990, 1, 1) + dt.timedelta(days=i) if i % 2 else None,
            "do_not_email": bool(i % 3),
        }
        for i, text in enumerate(AWKWARD)
    ]
    direct, staged = _both(Contact, rows, defaults=_defaults(Contact, organization_id=org.pk))
    assert staged == direct
    assert staged[1]["first_name"] == "line\nbreak\r\nmore"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="keys are staged on PostgreSQL only")
def test_staged_products_and_json_are_the_direct_ones(org, owner, make_job):
    rows = [
        {
            "sku": f"S-{i}",
            "name": text or "x",
            "unit_cost": Decimal("1234.5600") / (i + 1),
            "list_price": Decimal("-0.01"),
            "is_active": i % 2 == 0,
            "description": text,
        }
        for i, text in enumerate(AWKWARD)
    ]
    direct, staged = _both(Product, rows, defaults=_defaults(Product, organization_id=org.pk))
    assert staged == direct
    job = make_job(org, owner)
    log = [
        {"job_id": job.pk, "row_number": i, "column": "Notes", "value": t, "message": f"{i}: {t}"}
        for i, t in enumerate(AWKWARD)
    ]
    direct, staged = _both(JobLogEntry, log, defaults=_defaults(JobLogEntry))
    assert staged == direct
    changes = [
        {
            "job_id": job.pk,
            "resource": "contacts",
            "object_id": i,
            "action": "updated",
            "before": {"notes": text, "raw": [text, None, 1.5, True]},
            "after": {"notes": None, "when": "2026-11-30T05:00:00+00:00"},
        }
        for i, text in enumerate(AWKWARD)
    ]
    direct, staged = _both(ImportChange, changes, defaults=_defaults(ImportChange))
    assert staged == direct
    assert staged[0]["before"]["raw"] == ["tab\there", None, 1.5, True]


def test_keys_are_not_staged_on_sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with pytest.raises(ValueError, match="only PostgreSQL"):
        inserter_for(Contact).stage([{"email": "a@x.com"}], now=timezone.now())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY on PostgreSQL only")
def test_values_every_row_shares_are_dumped_once_to_the_same_bytes(org):
    """``_copy_shared`` turns the shared values into the text psycopg would send for them, so
    the rows format faster and COPY receives the same bytes; the timestamps read back exact."""
    from psycopg.types.json import Jsonb

    from jobs.bulk import _copy_shared, _copy_text

    now = timezone.now()
    values = [
        now,
        dt.datetime(2026, 3, 29, 1, 30, 15, 7, tzinfo=dt.UTC),
        dt.date(2026, 11, 30),
        Decimal("-1234.5600"),
        True,
        False,
        7,
        1.5,
        None,
        *AWKWARD,
        Jsonb({"a": ["tab\there", None, 1.5], "b": "back\\slash"}),
    ]
    shared = _copy_shared(values)
    assert _copy_text([values]) == _copy_text([shared])
    assert all(v is None or type(v) is str for v in shared)

    inserter = inserter_for(Contact)
    rows = [{"email": f"s{i}@x.com"} for i in range(3)]
    staged = inserter.stage(rows, now=now, defaults=_defaults(Contact, organization_id=org.pk))
    with transaction.atomic():
        ids = inserter.insert(rows, now=now, staged=staged)
    assert {(c.created_at, c.updated_at) for c in Contact.objects.filter(pk__in=ids)} == {
        (now, now)
    }
