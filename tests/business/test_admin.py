"""The Django admin has a page for every business model."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

from business.resources import registry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client():
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def test_it_registers_every_business_model():
    for resource in registry.all():
        assert admin.site.is_registered(resource.model), resource.model


@pytest.mark.parametrize("name", [r.name for r in registry.all()])
def test_it_lists_searches_and_filters_by_organization(staff_client, org, other_org, name):
    from tests.business.test_records_pages import BUILDERS

    BUILDERS[name](org)
    BUILDERS[name](other_org)
    model = registry.get(name).model
    url = f"/django-admin/business/{model._meta.model_name}/"
    response = staff_client.get(url)
    assert response.status_code == 200
    mine = model._default_manager.filter(organization=org).count()
    assert response.context["cl"].result_count == mine * 2
    filtered = staff_client.get(url, {"organization__id__exact": org.pk, "q": ""})
    assert filtered.status_code == 200
    assert filtered.context["cl"].result_count == mine
    searched = staff_client.get(url, {"q": "zzz-not-there"})
    assert searched.status_code == 200
    assert searched.context["cl"].result_count == 0


def test_it_keeps_the_audit_trail_read_only(staff_client, org):
    assert staff_client.get("/django-admin/business/auditevent/add/").status_code == 403
