"""The lookup of a batch's keys among existing records (``existing_lookup``) finds exactly the
records whose key is given, whatever the keys hold: on PostgreSQL text keys travel as one
string the server splits, or as an array when a key holds the separator or is empty."""

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
    return {k[0]: obj.first_name for k, obj in found.items()}, queries[-1]["sql"]


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
