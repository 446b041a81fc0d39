"""The fast writer (``jobs.bulk``) sends rows through the driver's own cursor; a row the database
refuses still raises Django's error, which is what the import catches to write a batch again
row by row when someone else wrote one of its keys meanwhile (``ImportRun.write_fallback``)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from business.models import Contact
from jobs.bulk import inserter_for
from wizard.engine.writing import InstanceFactory

pytestmark = pytest.mark.django_db


def _defaults(org):
    return InstanceFactory(Contact, organization_id=org.pk, defaults={}).base


def test_an_insert_meeting_a_taken_key_raises_djangos_integrity_error(org):
    Contact.objects.create(organization=org, email="taken@x.com")
    rows = [{"email": "free@x.com"}, {"email": "taken@x.com"}]
    with pytest.raises(IntegrityError), transaction.atomic():
        inserter_for(Contact).insert(rows, now=timezone.now(), defaults=_defaults(org))
    assert list(Contact.objects.values_list("email", flat=True)) == ["taken@x.com"]


def test_an_update_meeting_a_taken_key_raises_djangos_integrity_error(org):
    Contact.objects.create(organization=org, email="taken@x.com")
    mine = Contact.objects.create(organization=org, email="mine@x.com")
    other = Contact.objects.create(organization=org, email="other@x.com")
    mine.email, other.email = "taken@x.com", "fine@x.com"
    with pytest.raises(IntegrityError), transaction.atomic():
        inserter_for(Contact).update([other, mine], ["email"])
    assert sorted(Contact.objects.values_list("email", flat=True)) == [
        "mine@x.com",
        "other@x.com",
        "taken@x.com",
    ]
