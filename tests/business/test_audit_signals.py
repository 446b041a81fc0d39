"""Audit events for login, logout and failed logins."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from business.models import AuditEvent
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(client: Client, username: str, password: str = PASSWORD):
    return client.post(
        reverse("accounts:login"),
        {"username": username, "password": password},
        REMOTE_ADDR="203.0.113.7",
    )


def test_it_records_a_login_in_the_members_organization(owner, org, other_org):
    response = login(Client(), "owner")
    assert response.status_code == 302
    event = AuditEvent.objects.get(event_type=AuditEvent.Type.LOGIN)
    assert event.organization == org
    assert event.user == owner
    assert event.object_repr == "owner"
    assert event.ip_address == "203.0.113.7"
    assert not AuditEvent.objects.filter(organization=other_org).exists()


def test_it_records_a_logout(owner, org):
    client = Client()
    login(client, "owner")
    client.post(reverse("accounts:logout"), REMOTE_ADDR="203.0.113.8")
    event = AuditEvent.objects.get(event_type=AuditEvent.Type.LOGOUT)
    assert (event.organization, event.user, event.ip_address) == (org, owner, "203.0.113.8")


def test_it_records_a_failed_login_for_a_members_username(owner, org):
    response = login(Client(), "owner", "wrong-password")
    assert response.status_code == 200
    event = AuditEvent.objects.get(event_type=AuditEvent.Type.LOGIN_FAILED)
    assert event.organization == org
    # Nobody was signed in: the attempt has no actor, it names the account tried.
    assert event.user is None
    assert event.object_repr == "owner"
    assert event.details == {"username": "owner"}
    assert "wrong-password" not in str(event.details)


def test_it_skips_failed_logins_no_organization_owns(outsider, org):
    login(Client(), "nobody-by-this-name", "x")
    login(Client(), "outsider", "wrong")
    assert not AuditEvent.objects.exists()


def test_it_records_nothing_for_a_user_without_organization_who_logs_in(outsider):
    assert login(Client(), "outsider").status_code == 302
    assert not AuditEvent.objects.exists()


def test_it_shows_login_events_only_to_their_organization(owner, other_user, org, other_org):
    login(Client(), "owner")
    login(Client(), "other")
    client = Client()
    client.force_login(other_user)
    response = client.get(reverse("business:list", args=["audit-events"]) + "?event_type=login")
    users = {e.user.username for e in (r.record for r in response.context["table"].paginated_rows)}
    assert users == {"other"}
