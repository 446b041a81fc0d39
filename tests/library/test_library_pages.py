"""The template library: who sees, edits, shares, duplicates, deletes and uses what."""

from __future__ import annotations

import pytest
from django.urls import reverse

from library.models import DataTemplate
from library.services import TemplateError, template_create, template_duplicate

pytestmark = pytest.mark.django_db


def make(org, user, name, **kw):
    kw.setdefault("resource", "contacts")
    kw.setdefault("mapping", {"E-mail": "email", "Prénom": "first_name"})
    return DataTemplate.objects.create(organization=org, created_by=user, name=name, **kw)


@pytest.fixture
def shared(org, owner):
    return make(org, owner, "CRM weekly", is_shared=True, description="From the CRM export")


@pytest.fixture
def personal(org, member):
    return make(org, member, "My contacts")


@pytest.fixture
def others_personal(org, manager):
    return make(org, manager, "Manager's private")


def names(response) -> list[str]:
    return [r["template"].name for r in response.context["rows"]]


# --- listing ---------------------------------------------------------------------------------


def test_it_lists_shared_and_own_templates_for_ops(
    member_client, shared, personal, others_personal
):
    response = member_client.get(reverse("library:templates"))
    assert response.status_code == 200
    assert names(response) == ["CRM weekly", "My contacts"]
    assert "<h1>Saved templates</h1>" in response.content.decode()


def test_it_lists_every_template_for_template_managers(
    owner_client, shared, personal, others_personal
):
    response = owner_client.get(reverse("library:templates"))
    assert sorted(names(response)) == ["CRM weekly", "Manager's private", "My contacts"]


def test_it_never_lists_another_organizations_templates(other_client, shared):
    response = other_client.get(reverse("library:templates"))
    assert names(response) == []


def test_it_searches_by_name_description_and_resource(owner_client, shared, personal, org, owner):
    make(org, owner, "Stock count", resource="stock-items")
    assert names(owner_client.get(reverse("library:templates"), {"q": "crm"})) == ["CRM weekly"]
    assert names(owner_client.get(reverse("library:templates"), {"q": "stock"})) == ["Stock count"]
    assert names(owner_client.get(reverse("library:templates"), {"q": "export"})) == ["CRM weekly"]


def test_it_answers_a_search_from_htmx_with_the_list_only(owner_client, shared):
    response = owner_client.get(
        reverse("library:templates"),
        {"q": "crm"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="template-list",
    )
    body = response.content.decode()
    assert "CRM weekly" in body and "<h1>" not in body


def test_it_filters_by_type(owner_client, shared, org, owner):
    make(org, owner, "Contacts export", template_type="export", mapping={"columns": ["email"]})
    response = owner_client.get(reverse("library:templates"), {"type": "export"})
    assert names(response) == ["Contacts export"]


def test_it_flags_stale_templates(owner_client, org, owner):
    make(org, owner, "Old one", mapping={"Fax": "fax_number", "Mail": "email"})
    response = owner_client.get(reverse("library:templates"))
    body = response.content.decode()
    assert "Needs attention" in body and "fax_number" in body
    stale = DataTemplate.objects.get(name="Old one")
    page = owner_client.get(reverse("library:template_edit", args=[stale.pk])).content.decode()
    assert "no longer exist" in page and "fax_number" in page


# --- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("library:template_edit", "get"),
        ("library:template_edit", "post"),
        ("library:template_duplicate", "post"),
        ("library:template_toggle", "post"),
        ("library:template_delete", "get"),
        ("library:template_delete", "post"),
        ("library:template_use", "get"),
    ],
)
def test_it_answers_404_for_another_organizations_template(other_client, shared, name, method):
    response = getattr(other_client, method)(reverse(name, args=[shared.pk]), {"name": "x"})
    assert response.status_code == 404
    shared.refresh_from_db()
    assert shared.name == "CRM weekly"


def test_it_hides_someone_elses_personal_template_from_ops(member_client, others_personal):
    response = member_client.get(reverse("library:template_edit", args=[others_personal.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("name", "method", "data"),
    [
        ("library:template_edit", "post", {"name": "Hijacked", "resource": "contacts"}),
        ("library:template_toggle", "post", {}),
        ("library:template_delete", "post", {}),
        ("library:template_delete", "get", {}),
    ],
)
def test_it_refuses_ops_changing_shared_templates(member_client, shared, name, method, data):
    response = getattr(member_client, method)(reverse(name, args=[shared.pk]), data)
    assert response.status_code == 403
    shared.refresh_from_db()
    assert (shared.name, shared.is_active) == ("CRM weekly", True)


def test_it_shows_shared_templates_read_only_to_ops(member_client, shared):
    body = member_client.get(reverse("library:template_edit", args=[shared.pk])).content.decode()
    assert "curated by template managers" in body
    assert "Save changes" not in body


def test_it_lets_ops_duplicate_a_shared_template_into_a_personal_one(member_client, shared, member):
    response = member_client.post(reverse("library:template_duplicate", args=[shared.pk]))
    copy = DataTemplate.objects.get(name="CRM weekly (copy)")
    assert response.status_code == 302
    assert response["Location"] == reverse("library:template_edit", args=[copy.pk])
    assert (copy.is_shared, copy.created_by, copy.mapping) == (False, member, shared.mapping)


def test_it_numbers_repeated_copies(owner, shared, org):
    membership = owner.memberships.get(organization=org)
    first = template_duplicate(template=shared, membership=membership)
    second = template_duplicate(template=shared, membership=membership)
    assert (first.name, second.name) == ("CRM weekly (copy)", "CRM weekly (copy) 2")


def test_it_lets_ops_edit_their_own_template(member_client, personal):
    response = member_client.post(
        reverse("library:template_edit", args=[personal.pk]),
        {
            "name": "My contacts v2",
            "description": "weekly",
            "resource": "contacts",
            "on_duplicate": "update",
            "mode": "atomic",
            "is_active": "on",
            "is_shared": "on",  # not a manager: ignored
            "map_header_0": "E-mail",
            "map_field_0": "email",
            "map_header_1": "Prénom",
            "map_field_1": "",
            "map_header_2": "Company",
            "map_field_2": "account",
            "f-source-default": "France",
            "f-phone-regex": "^\\+",
        },
    )
    assert response.status_code == 302
    personal.refresh_from_db()
    assert personal.name == "My contacts v2"
    assert personal.mapping == {"E-mail": "email", "Prénom": "", "Company": "account"}
    assert personal.options == {"source": {"default": "France"}}
    assert personal.rules == {"phone": {"regex": "^\\+"}}
    assert (personal.on_duplicate, personal.mode, personal.is_shared) == ("update", "atomic", False)


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        (
            "f-phone-regex",
            "(",
            "The pattern of &#x27;phone&#x27; is not a valid regular expression",
        ),
        ("f-birth_date-date_format", "dd/mm", "The date format of &#x27;birth_date&#x27;"),
        ("f-source-default", "x" * 1001, "longer than 1000 characters"),
    ],
)
def test_it_explains_bad_options_and_rules_next_to_the_field(
    member_client, personal, field, text, message
):
    data = {
        "name": "x",
        "resource": "contacts",
        "on_duplicate": "skip",
        "mode": "atomic",
        field: text,
    }
    response = member_client.post(reverse("library:template_edit", args=[personal.pk]), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body and 'role="alert"' in body
    card = body[body.index('class="field-card has-error') :]
    assert message in card[: card.index("</details>")]
    personal.refresh_from_db()
    assert personal.name == "My contacts"


def _edit_data(template, **changes) -> dict:
    data = {
        "name": template.name,
        "resource": template.resource,
        "on_duplicate": template.on_duplicate,
        "mode": template.mode,
        "is_active": "on" if template.is_active else "",
        "is_shared": "on" if template.is_shared else "",
    }
    for index, (header, field) in enumerate(template.mapping.items()):
        data[f"map_header_{index}"], data[f"map_field_{index}"] = header, field
    return {**data, **changes}


def test_it_refuses_a_name_already_taken(owner_client, shared, personal):
    response = owner_client.post(
        reverse("library:template_edit", args=[personal.pk]),
        _edit_data(personal, name="crm weekly"),
    )
    assert response.status_code == 200
    personal.refresh_from_db()
    assert personal.name == "My contacts"
    assert "already exists" in response.content.decode()


def test_it_has_one_rename_control_the_name_field(owner_client, shared):
    body = owner_client.get(reverse("library:template_edit", args=[shared.pk])).content.decode()
    assert body.count('name="name"') == 1 and "Rename to" not in body


def test_it_lets_managers_curate_shared_templates(owner_client, shared):
    url = reverse("library:template_edit", args=[shared.pk])
    assert owner_client.post(url, _edit_data(shared, name="CRM (weekly)")).status_code == 302
    assert (
        owner_client.post(reverse("library:template_toggle", args=[shared.pk])).status_code == 302
    )
    shared.refresh_from_db()
    assert (shared.name, shared.is_active) == ("CRM (weekly)", False)
    assert (
        owner_client.post(reverse("library:template_delete", args=[shared.pk])).status_code == 302
    )
    assert not DataTemplate.objects.filter(pk=shared.pk).exists()


def test_it_asks_before_deleting(owner_client, shared):
    response = owner_client.get(reverse("library:template_delete", args=[shared.pk]))
    assert "Delete the template" in response.content.decode()
    assert DataTemplate.objects.filter(pk=shared.pk).exists()


def test_it_refuses_sharing_by_non_managers(member, org):
    membership = member.memberships.get(organization=org)
    with pytest.raises(TemplateError, match="Only template managers"):
        template_create(
            organization=org, membership=membership, name="x", resource="contacts", is_shared=True
        )


def test_it_refuses_an_unknown_resource(owner, org):
    membership = owner.memberships.get(organization=org)
    with pytest.raises(TemplateError, match="not something Ferry can import"):
        template_create(organization=org, membership=membership, name="x", resource="gizmos")


# --- use -------------------------------------------------------------------------------------


def test_it_uses_an_import_template_by_starting_the_wizard(member_client, shared):
    response = member_client.get(reverse("library:template_use", args=[shared.pk]))
    assert response.status_code == 302
    assert response["Location"] == f"/import/?resource=contacts&template={shared.pk}"
    page = member_client.get(response["Location"])
    assert page.context["form"].initial == {"resource": "contacts", "template": shared.pk}


def test_it_sends_export_templates_to_the_export_builder(member_client, org, owner):
    export = make(
        org, owner, "Export", template_type="export", mapping={"columns": ["email"]}, is_shared=True
    )
    response = member_client.get(reverse("library:template_use", args=[export.pk]))
    assert response["Location"] == f"/export/?template={export.pk}"


def test_it_does_not_use_an_inactive_template(member_client, org, owner):
    inactive = make(org, owner, "Retired", is_shared=True, is_active=False)
    response = member_client.get(reverse("library:template_use", args=[inactive.pk]))
    assert response["Location"] == reverse("library:templates")


# --- Django admin ----------------------------------------------------------------------------


def test_it_offers_templates_in_django_admin_with_stale_ones_flagged(admin_client, org, owner):
    make(org, owner, "Tidy one")
    make(org, owner, "Broken", mapping={"Fax": "fax_number"})
    url = reverse("admin:library_datatemplate_changelist")
    body = admin_client.get(url).content.decode()
    assert "Tidy one" in body and "Broken" in body and "fax_number" in body
    stale_only = admin_client.get(url, {"stale": "yes"}).content.decode()
    assert "Broken" in stale_only and "Tidy one" not in stale_only
