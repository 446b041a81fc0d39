"""library.selectors: what a member sees, what is offered, what a stored template lacks."""

from __future__ import annotations

import pytest

from library.models import DataTemplate
from library.selectors import (
    template_can_change,
    template_stale_fields,
    templates_offered,
    templates_visible,
)

pytestmark = pytest.mark.django_db

# --- stale templates -------------------------------------------------------------------------


def test_it_flags_template_fields_that_are_gone():
    template = DataTemplate(
        resource="contacts",
        mapping={"Email": "email", "Fax": "fax", "Skip": ""},
        options={"pager": {"default": "1"}},
        rules={"email": {"required": True}},
    )
    assert template_stale_fields(template) == ["fax", "pager"]


def test_it_finds_nothing_stale_in_a_healthy_template():
    assert template_stale_fields(DataTemplate(resource="contacts", mapping={"Mail": "email"})) == []


def test_it_checks_export_templates_by_their_columns():
    template = DataTemplate(
        resource="contacts",
        template_type="export",
        mapping={"columns": ["email", "fax"], "filters": {"created_at__gte": "2024-01-01"}},
    )
    assert template_stale_fields(template) == ["created_at__gte", "fax"]


def test_it_flags_a_template_for_an_unknown_resource():
    assert template_stale_fields(DataTemplate(resource="gizmos", mapping={"A": "a"})) == ["a"]


# --- who sees what ---------------------------------------------------------------------------


def _make(org, user, name, **kw):
    kw.setdefault("resource", "contacts")
    return DataTemplate.objects.create(organization=org, created_by=user, name=name, **kw)


@pytest.fixture
def cast(org, other_org, owner, member, manager):
    return {
        "shared": _make(org, owner, "Shared", is_shared=True),
        "mine": _make(org, member, "Mine"),
        "managers": _make(org, manager, "Manager's own"),
        "inactive": _make(org, member, "Mine, inactive", is_active=False),
        "export": _make(org, member, "My export", template_type="export"),
        "elsewhere": _make(other_org, None, "Elsewhere", is_shared=True),
    }


def _names(qs) -> set[str]:
    return {t.name for t in qs}


def test_it_shows_a_member_the_shared_templates_and_their_own(org, member, cast):
    visible = templates_visible(organization=org, membership=member.memberships.get())
    assert _names(visible) == {"Shared", "Mine", "Mine, inactive", "My export"}


def test_it_shows_a_template_manager_every_template_of_the_organization(org, owner, cast):
    visible = templates_visible(organization=org, membership=owner.memberships.get())
    assert _names(visible) == {"Shared", "Mine", "Manager's own", "Mine, inactive", "My export"}


def test_it_offers_only_active_shared_or_own_templates_of_the_type_even_to_a_manager(
    org, owner, member, cast
):
    offered = templates_offered(organization=org, user=owner, template_type="import")
    assert _names(offered) == {"Shared"}
    offered = templates_offered(
        organization=org, user=member, template_type="import", resources=["contacts"]
    )
    assert _names(offered) == {"Shared", "Mine"}
    assert _names(templates_offered(organization=org, user=member, template_type="export")) == {
        "My export"
    }


def test_it_lets_authors_change_their_own_and_managers_anything(org, owner, member, cast):
    as_member, as_owner = member.memberships.get(), owner.memberships.get()
    assert template_can_change(template=cast["mine"], membership=as_member)
    assert not template_can_change(template=cast["shared"], membership=as_member)
    assert not template_can_change(template=cast["managers"], membership=as_member)
    assert template_can_change(template=cast["managers"], membership=as_owner)
    assert not template_can_change(template=cast["mine"], membership=None)
