"""The API's template endpoints call the library's services: same checks, same audit."""

from __future__ import annotations

import pytest

from business.models import AuditEvent
from library.models import DataTemplate

pytestmark = pytest.mark.django_db

URL = "/api/v1/templates/"


def test_it_audits_changes_made_through_the_api(member_api):
    created = member_api.post(URL, {"name": "Weekly", "resource": "contacts"}, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert member_api.patch(f"{URL}{pk}/", {"name": "Weekly CRM"}, format="json").status_code == 200
    assert member_api.delete(f"{URL}{pk}/").status_code == 204
    actions = list(
        AuditEvent.objects.filter(event_type=AuditEvent.Type.TEMPLATE)
        .order_by("pk")
        .values_list("details__action", flat=True)
    )
    assert actions == ["created", "renamed", "deleted"]


def test_it_checks_names_like_the_pages_do_ignoring_case(member_api, member, org):
    DataTemplate.objects.create(organization=org, created_by=member, name="Weekly", resource="x")
    response = member_api.post(URL, {"name": "WEEKLY", "resource": "contacts"}, format="json")
    assert response.status_code == 400
    assert "already exists" in response.json()["details"]["name"][0]


def test_it_refuses_to_change_a_templates_type(member_api):
    pk = member_api.post(URL, {"name": "W", "resource": "contacts"}, format="json").json()["id"]
    response = member_api.patch(f"{URL}{pk}/", {"type": "export"}, format="json")
    assert response.status_code == 400 and "type" in response.json()["details"]
