"""/api/v1/templates/: admins curate the organization's templates; others their own."""

from __future__ import annotations

import pytest

from library.models import DataTemplate

pytestmark = pytest.mark.django_db

URL = "/api/v1/templates/"


def template(org, user, name, **fields):
    fields.setdefault("resource", "contacts")
    return DataTemplate.objects.create(organization=org, created_by=user, name=name, **fields)


def payload(**fields):
    return {
        "name": "Weekly CRM",
        "resource": "contacts",
        "type": "import",
        "mapping": {"E-mail": "email", "Company": "account"},
        "on_duplicate": "update",
        "mode": "skip-invalid",
        **fields,
    }


def test_it_creates_a_personal_template(member_api, member, org):
    response = member_api.post(URL, payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    saved = DataTemplate.objects.get(pk=body["id"])
    assert (saved.organization, saved.created_by, saved.is_shared) == (org, member, False)
    assert saved.mapping == {"E-mail": "email", "Company": "account"}
    assert body["created_by"] == "member" and body["type"] == "import"


def test_it_lets_an_admin_create_a_shared_template(owner_api):
    response = owner_api.post(URL, payload(is_shared=True), format="json")
    assert response.status_code == 201
    assert DataTemplate.objects.get().is_shared


def test_it_refuses_sharing_by_a_non_admin(member_api):
    response = member_api.post(URL, payload(is_shared=True), format="json")
    assert response.status_code == 400
    assert response.json()["details"] == {
        "is_shared": ["Only template managers can share a template."]
    }
    assert not DataTemplate.objects.exists()


def test_it_validates_resource_name_and_duplicates(member_api, member, org):
    template(org, member, "Weekly CRM")
    response = member_api.post(URL, payload(resource="unicorns", name="Weekly CRM"), format="json")
    assert response.status_code == 400
    details = response.json()["details"]
    assert "Unknown resource 'unicorns'" in details["resource"][0]
    response = member_api.post(URL, payload(), format="json")
    assert response.status_code == 400
    assert "already exists" in response.json()["details"]["name"][0]
    response = member_api.post(URL, payload(name="x", mapping="not json"), format="json")
    assert response.status_code == 400 and "mapping" in response.json()["details"]


def test_it_lists_own_and_shared_templates_for_a_member(member_api, owner, member, org, other_org):
    mine = template(org, member, "Mine")
    shared = template(org, owner, "Shared", is_shared=True)
    template(org, owner, "Owner's private")
    template(other_org, None, "Elsewhere", is_shared=True)
    names = {t["name"] for t in member_api.get(URL).json()["results"]}
    assert names == {mine.name, shared.name}


def test_it_lists_every_template_of_the_organization_for_an_admin(
    owner_api, member, org, other_org
):
    template(org, member, "Member's")
    template(org, None, "Shared", is_shared=True)
    template(other_org, None, "Elsewhere")
    names = {t["name"] for t in owner_api.get(URL).json()["results"]}
    assert names == {"Member's", "Shared"}


def test_it_reads_updates_and_deletes_an_own_template(member_api, member, org):
    t = template(org, member, "Mine")
    assert member_api.get(f"{URL}{t.pk}/").json()["name"] == "Mine"
    response = member_api.patch(f"{URL}{t.pk}/", {"mapping": {"Mail": "email"}}, format="json")
    assert response.status_code == 200
    t.refresh_from_db()
    assert t.mapping == {"Mail": "email"}
    response = member_api.put(f"{URL}{t.pk}/", payload(name="Renamed"), format="json")
    assert response.status_code == 200 and response.json()["name"] == "Renamed"
    assert member_api.delete(f"{URL}{t.pk}/").status_code == 204
    assert not DataTemplate.objects.exists()


def test_it_lets_a_member_read_but_not_change_a_shared_template(member_api, owner, org):
    t = template(org, owner, "Shared", is_shared=True)
    assert member_api.get(f"{URL}{t.pk}/").status_code == 200
    response = member_api.patch(f"{URL}{t.pk}/", {"name": "Mine now"}, format="json")
    assert response.status_code == 403
    assert member_api.delete(f"{URL}{t.pk}/").status_code == 403
    t.refresh_from_db()
    assert t.name == "Shared"


def test_it_hides_another_members_private_template(member_api, owner, org):
    t = template(org, owner, "Private")
    assert member_api.get(f"{URL}{t.pk}/").status_code == 404
    assert member_api.delete(f"{URL}{t.pk}/").status_code == 404


def test_it_answers_404_for_another_organizations_template(other_api, owner, org):
    t = template(org, owner, "Shared", is_shared=True)
    assert other_api.get(f"{URL}{t.pk}/").status_code == 404
    assert other_api.patch(f"{URL}{t.pk}/", {"name": "x"}, format="json").status_code == 404
    assert other_api.delete(f"{URL}{t.pk}/").status_code == 404
    assert DataTemplate.objects.filter(pk=t.pk, name="Shared").exists()


def test_it_lets_an_admin_change_a_members_template(owner_api, member, org):
    t = template(org, member, "Member's")
    response = owner_api.patch(f"{URL}{t.pk}/", {"is_shared": True}, format="json")
    assert response.status_code == 200
    t.refresh_from_db()
    assert t.is_shared
