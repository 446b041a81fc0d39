"""New rows are sent to the database in the order of the table's unique key (``jobs.bulk``
``_unique_order``): its index is then filled page after page instead of at random. Each row
keeps the primary key reserved for it in the order it was given, with its own values."""

from __future__ import annotations

import random

import pytest
from django.db import connection, transaction
from django.utils import timezone

from business.models import Account, Contact
from jobs import bulk
from jobs.bulk import _key_sort, _unique_order, inserter_for
from wizard.engine.writing import InstanceFactory

pytestmark = pytest.mark.django_db


def _defaults(model, org):
    """What the import gives a row's missing attributes."""
    return InstanceFactory(model, organization_id=org.pk, defaults={}).base


def _rows(n):
    emails = [f"{random.Random(i).getrandbits(40):x}.{i}@example.com" for i in range(n)]
    return [{"email": e, "first_name": f"First {i}"} for i, e in enumerate(emails)]


def test_the_order_is_the_first_unique_constraints():
    assert _unique_order(Contact) == ["organization_id", "email"]
    assert _unique_order(Account) == ["organization_id", "name"]


def test_rows_keep_their_own_keys_and_values(org, monkeypatch):
    sent = []
    if connection.vendor == "sqlite":
        insert = bulk._sqlite_insert

        def spy(execute, limit, qtable, columns, params):
            if qtable.strip('"') == Contact._meta.db_table:
                sent.extend(params)
            return insert(execute, limit, qtable, columns, params)

        monkeypatch.setattr(bulk, "_sqlite_insert", spy)
    rows = _rows(300)
    inserter = inserter_for(Contact)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            staged = inserter.stage(rows, now=timezone.now(), defaults=_defaults(Contact, org))
            lines = staged.payload.decode().splitlines()
            sent = [line.split("\t") for line in lines if line != "\\."]
            ids = inserter.insert(
                rows, now=timezone.now(), defaults=_defaults(Contact, org), staged=staged
            )
        else:
            ids = inserter.insert(rows, now=timezone.now(), defaults=_defaults(Contact, org))
    assert ids == sorted(ids)  # reserved in the order given
    stored = Contact.objects.in_bulk(ids)
    assert [stored[pk].email for pk in ids] == [r["email"] for r in rows]
    assert [stored[pk].first_name for pk in ids] == [r["first_name"] for r in rows]
    emails_sent = [row[1] for row in sent]  # after the primary key
    assert emails_sent == sorted(r["email"] for r in rows) != [r["email"] for r in rows]


def test_values_that_do_not_compare_leave_the_rows_as_they_came():
    params = [[1, "b"], [2, None], [3, "a"]]
    _key_sort(params, [1])
    assert sorted(p[0] for p in params) == [1, 2, 3]
    params = [[1, "b"], [2, "a"]]
    _key_sort(params, [])
    assert params == [[1, "b"], [2, "a"]]
