"""The page's membership and the organization switcher's list come from one query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.middleware import SESSION_KEY, membership_for
from accounts.permissions import Role
from tests.factories import MembershipFactory, OrganizationFactory


def _membership_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "accounts_membership"' in q["sql"]]


@pytest.fixture
def third_org(db):
    return OrganizationFactory(name="Acme Aardvarks", slug="aardvarks")


def test_it_reads_the_membership_and_the_switcher_in_one_query(
    owner, owner_client, org, other_org, third_org
):
    MembershipFactory(user=owner, organization=other_org, role=Role.VIEWER)
    MembershipFactory(user=owner, organization=third_org, role=Role.VIEWER)
    session = owner_client.session
    session[SESSION_KEY] = org.pk
    session.save()
    with CaptureQueriesContext(connection) as queries:
        page = owner_client.get(reverse("business:list", args=["contacts"]))
    assert page.status_code == 200
    assert len(_membership_queries(queries.captured_queries)) == 1
    assert page.context["current_organization"] == org
    # The others, by organization name, as before.
    assert [m.organization for m in page.context["other_memberships"]] == [third_org, other_org]
    html = page.content.decode()
    assert f'<option value="{other_org.pk}">{other_org.name}</option>' in html
    assert f'<option value="{third_org.pk}">{third_org.name}</option>' in html


def test_it_acts_under_the_first_organization_by_name_when_none_is_chosen_or_it_is_gone(
    owner, owner_client, org, third_org
):
    MembershipFactory(user=owner, organization=third_org, role=Role.VIEWER)
    page = owner_client.get(reverse("jobs:dashboard"))
    assert page.context["current_organization"] == third_org  # "Acme…" sorts first
    assert [m.organization for m in page.context["other_memberships"]] == [org]
    session = owner_client.session
    session[SESSION_KEY] = 999_999  # an organization the user has left
    session.save()
    page = owner_client.get(reverse("jobs:dashboard"))
    assert page.context["current_organization"] == third_org
    assert membership_for(owner, org.pk).organization == org
    assert membership_for(owner, str(org.pk)).organization == org
    assert membership_for(owner, 999_999).organization == third_org


def test_it_lists_no_other_organization_for_a_member_of_one(owner_client, org):
    page = owner_client.get(reverse("jobs:dashboard"))
    assert page.context["current_organization"] == org
    assert page.context["other_memberships"] == []
    assert 'class="orgswitch"' not in page.content.decode()
