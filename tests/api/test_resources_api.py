"""GET /api/v1/resources/: what a client may import and export, with fields and filters."""

from __future__ import annotations

import pytest

from accounts.models import Membership
from business.resources import registry

pytestmark = pytest.mark.django_db

URL = "/api/v1/resources/"


def test_it_lists_every_resource_with_the_callers_permissions(owner_api, member_api):
    owner_body = owner_api.get(URL).json()
    assert {r["name"] for r in owner_body} == {r.name for r in registry.all()}
    contacts = next(r for r in owner_body if r["name"] == "contacts")
    assert contacts["permissions"] == {
        "can_import": True,
        "can_export": True,
        "can_export_pdf": True,
    }
    assert contacts["url"] == f"http://testserver{URL}contacts/"
    assert contacts["key"] == ["email"]
    member_contacts = next(r for r in member_api.get(URL).json() if r["name"] == "contacts")
    assert member_contacts["permissions"]["can_export_pdf"] is False
    audit = next(r for r in owner_body if r["name"] == "audit-events")
    assert audit["importable"] is False and audit["permissions"]["can_import"] is False


def test_it_describes_fields_for_building_a_mapping(owner_api):
    body = owner_api.get(URL + "contacts/").json()
    fields = {f["name"]: f for f in body["fields"]}
    assert fields["email"] == {
        **fields["email"],
        "label": "Email",
        "type": "email",
        "required": True,
        "key": True,
    }
    assert "E-mail" in fields["email"]["synonyms"]
    assert fields["account"]["reference"] == {"resource": "accounts", "key": "name"}
    assert "customer" in fields["lifecycle_stage"]["choices"]
    filters = {f["name"] for f in body["filters"]}
    assert {"email", "lifecycle_stage", "birth_date_from", "q"} <= filters


def test_it_answers_404_naming_the_known_resources(owner_api):
    response = owner_api.get(URL + "unicorns/")
    assert response.status_code == 404
    assert "Unknown resource 'unicorns'" in response.json()["error"]
    assert "contacts" in response.json()["error"]


def test_it_hides_resources_the_caller_may_neither_import_nor_export(member_api, member, org):
    membership = Membership.objects.get(user=member, organization=org)
    membership.revoked_permissions = ["can_import_product", "can_export_product"]
    membership.save()
    names = {r["name"] for r in member_api.get(URL).json()}
    assert "products" not in names and "contacts" in names
    response = member_api.get(URL + "products/")
    assert response.status_code == 403
