"""The lookup of a batch's keys among existing records (``existing_lookup``) finds exactly the
records whose key is given, whatever the keys hold: on PostgreSQL text keys travel as one
string the server splits, or as an array when a key holds the separator or is empty, and
each is looked up with one probe of the key's index, whatever the planner's statistics."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from business.models import Contact
from business.resources.base import resource_get
from wizard.engine.matching import existing_lookup

pytestmark = pytest.mark.django_db

AWKWARD = [
    "plain@x.com",
    "o'brien@x.com",
    "back\\slash@x.com",
    'quote"d@x.com',
    "per%cent@x.com",
    "{brace,comma}@x.com",
    "zoë@東京.jp",
    "NULL",
    " spaced @x.com",
]


def _lookup(org, keys):
    with CaptureQueriesContext(connection) as queries:
        found = existing_lookup(
            organization=org,
            resource=resource_get("contacts"),
            key_attnames=["email"],
            keys=[(k,) for k in keys],
            fields=["first_name"],
        )
    (sql,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    return {k[0]: obj.first_name for k, obj in found.items()}, sql


@pytest.mark.parametrize("odd", [None, "unit\x1fseparator@x.com", ""])
def test_it_finds_exactly_the_given_keys_of_this_organization(org, other_org, odd):
    stored = [*AWKWARD, *([odd] if odd is not None else [])]
    Contact.objects.bulk_create(
        [Contact(organization=org, email=e, first_name=f"F{i}") for i, e in enumerate(stored)]
        + [Contact(organization=other_org, email=e, first_name="other") for e in stored]
    )
    asked = [*stored, "absent@x.com", "PLAIN@x.com"]

    found, sql = _lookup(org, asked)

    assert found == {e: f"F{i}" for i, e in enumerate(stored)}
    if connection.vendor == "postgresql":
        # One string split by the server, unless a key holds the separator or is empty.
        assert ("string_to_array" in sql) is (odd is None)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_a_batch_of_keys_is_probed_in_the_index_not_read_with_the_whole_table(org):
    """5,000 keys among 20,000 records: ``key = ANY(…)`` is planned as a read of all of
    them (a sequential scan), which grows with the table; each key is probed instead."""
    Contact.objects.bulk_create(
        Contact(organization=org, email=f"p{i}@x.com", first_name="F") for i in range(20_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE business_contact")
    asked = [f"p{i}@x.com" for i in range(0, 20_000, 4)] + [f"new{i}@x.com" for i in range(5)]

    found, sql = _lookup(org, asked)

    assert len(found) == 5_000
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "Seq Scan on business_contact" not in plan, plan
    assert "Index Scan using contact_" in plan and "email" in plan, plan
