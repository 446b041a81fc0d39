"""Personal API tokens: created on a page, shown once, stored hashed, revocable, tracked."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from api.models import ApiToken
from api.tokens import token_authenticate, token_create, token_touch
from business.models import AuditEvent
from tests.api.conftest import make_token, token_client

pytestmark = pytest.mark.django_db

URL = "/api/tokens/"
JOBS = "/api/v1/data-jobs/"


def test_it_requires_login_for_the_tokens_page(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_it_links_the_tokens_page_from_the_user_menu(owner_client):
    html = owner_client.get("/api/docs/").content.decode()
    assert f'href="{URL}"' in html


def test_it_creates_a_token_and_shows_it_exactly_once(owner_client, owner, org):
    response = owner_client.post(URL, {"name": "Nightly CRM sync"})
    assert response.status_code == 201
    token = ApiToken.objects.get()
    assert (token.user, token.organization, token.name) == (owner, org, "Nightly CRM sync")
    raw = response.context["created"]["raw"]
    html = response.content.decode()
    assert raw in html and "shown only once" in html
    assert response["Cache-Control"] == "no-store"
    # The next visit lists the token by its prefix, never the secret.
    listing = owner_client.get(URL).content.decode()
    assert raw not in listing
    assert f"fry_{token.prefix}_" in listing and "Nightly CRM sync" in listing
    assert AuditEvent.objects.filter(organization=org, details__action="api_token_created").exists()


def test_it_refuses_a_token_without_a_name(owner_client):
    response = owner_client.post(URL, {"name": "   "})
    assert response.status_code == 400
    assert (
        "This field is required." in response.content.decode()
        or "name" in response.content.decode()
    )
    assert not ApiToken.objects.exists()


def test_it_stores_only_a_sha256_digest_of_the_token(owner, org):
    token, raw = token_create(user=owner, organization=org, name="ci")
    assert raw.startswith(f"fry_{token.prefix}_")
    assert len(raw) > 40
    stored = ApiToken.objects.filter(pk=token.pk).values()[0]
    assert raw not in {str(v) for v in stored.values()}
    assert token.secret_hash == hashlib.sha256(raw.encode()).hexdigest()


def test_it_authenticates_with_the_token_in_its_organization(owner, org):
    raw = make_token(owner, org)
    response = token_client(raw).get(JOBS)
    assert response.status_code == 200


def test_it_rejects_a_wrong_or_malformed_token_with_401(owner, org):
    raw = make_token(owner, org)
    for bad in (raw[:-2] + "xx", "fry_nothing", "garbage", f"{raw} extra"):
        response = token_client(bad).get(JOBS)
        assert response.status_code == 401, bad
        assert response.json()["error"]
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_answers_401_without_credentials(client, db):
    response = client.get(JOBS)
    assert response.status_code == 401
    assert response.json() == {
        "error": "Authentication credentials were not provided.",
        "details": {},
    }


def test_it_revokes_a_token_so_it_stops_working(owner_client, owner, org):
    raw = make_token(owner, org, "to revoke")
    api = token_client(raw)
    assert api.get(JOBS).status_code == 200
    token = ApiToken.objects.get()
    response = owner_client.post(reverse("api:token-revoke", args=[token.pk]))
    assert response.status_code == 302
    assert not ApiToken.objects.exists()
    assert api.get(JOBS).status_code == 401
    assert AuditEvent.objects.filter(details__action="api_token_revoked").exists()


def test_it_does_not_let_a_user_revoke_someone_elses_token(member_client, owner, org):
    raw = make_token(owner, org)
    token = ApiToken.objects.get()
    response = member_client.post(reverse("api:token-revoke", args=[token.pk]))
    assert response.status_code == 404
    assert token_client(raw).get(JOBS).status_code == 200


def test_it_only_lists_the_users_own_tokens(owner_client, owner, member, org):
    make_token(owner, org, "mine")
    make_token(member, org, "not mine")
    html = owner_client.get(URL).content.decode()
    assert "mine" in html and "not mine" not in html


def test_it_answers_401_once_the_membership_is_gone(member, org):
    raw = make_token(member, org)
    api = token_client(raw)
    assert api.get(JOBS).status_code == 200
    Membership.objects.filter(user=member, organization=org).delete()
    response = api.get(JOBS)
    assert response.status_code == 401
    assert "no longer a member" in response.json()["error"]


def test_it_answers_401_for_an_inactive_user(member, org):
    raw = make_token(member, org)
    member.is_active = False
    member.save()
    assert token_client(raw).get(JOBS).status_code == 401


def test_it_refuses_a_token_for_an_organization_the_user_does_not_belong_to(owner, other_org):
    from jobs.errors import FerryError

    with pytest.raises(FerryError):
        token_create(user=owner, organization=other_org, name="sneaky")


def test_it_acts_in_the_tokens_organization_not_the_sessions(owner, org, other_org):
    from tests.factories import MembershipFactory

    MembershipFactory(user=owner, organization=other_org, role="admin")
    from jobs.models import DataJob

    DataJob.objects.create(organization=org, user=owner, job_type="export", target="contacts")
    theirs = DataJob.objects.create(
        organization=other_org, user=owner, job_type="export", target="contacts"
    )
    api = token_client(make_token(owner, other_org))
    ids = [j["job_id"] for j in api.get(JOBS).json()["results"]]
    assert ids == [theirs.pk]


def test_it_records_last_use_at_most_once_a_minute(owner, org):
    raw = make_token(owner, org)
    token = ApiToken.objects.get()
    assert token.last_used_at is None
    token_authenticate(raw)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at == first
    assert not token_touch(token=token, now=first + timedelta(seconds=59))
    assert token_touch(token=token, now=first + timedelta(seconds=61))
    token.refresh_from_db()
    assert token.last_used_at == first + timedelta(seconds=61)


def test_it_shows_last_use_on_the_page(owner_client, owner, org):
    raw = make_token(owner, org, "used")
    token_client(raw).get(JOBS)
    ApiToken.objects.update(last_used_at=timezone.now() - timedelta(hours=2))
    html = owner_client.get(URL).content.decode()
    assert "2\xa0hours ago" in html or "2 hours ago" in html
