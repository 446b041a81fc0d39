"""Logging in and out, switching organizations, and users without one."""

import pytest
from django.urls import reverse

from accounts.decorators import organization_required
from accounts.middleware import SESSION_KEY
from accounts.permissions import Role
from jobs.models import DataJob
from tests.factories import MembershipFactory

PASSWORD = "pass-Word-123"


def test_it_shows_the_login_page(client):
    response = client.get(reverse("accounts:login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Log in to Ferry</h1>" in html
    assert '<label for="id_username">' in html and '<label for="id_password">' in html


def test_it_logs_in_and_lands_on_the_jobs_dashboard(client, owner):
    response = client.post(
        reverse("accounts:login"), {"username": "owner", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("jobs:dashboard")
    assert response.context["user"] == owner


def test_it_returns_to_the_page_asked_for_after_login(client, owner):
    response = client.post(
        reverse("accounts:login"),
        {"username": "owner", "password": PASSWORD, "next": "/jobs/?status=failed"},
    )
    assert response["Location"] == "/jobs/?status=failed"


def test_it_refuses_a_wrong_password_with_a_clear_message(client, owner):
    response = client.post(reverse("accounts:login"), {"username": "owner", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_logs_out(owner_client):
    response = owner_client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("accounts:login")
    assert owner_client.get(reverse("jobs:dashboard")).status_code == 302


def test_it_switches_to_another_organization_of_the_user(owner, owner_client, org, other_org):
    MembershipFactory(user=owner, organization=other_org, role=Role.VIEWER)
    # A finished export: the dashboard lists jobs that ran, not drafts that never started.
    rival_job = DataJob.objects.create(
        organization=other_org, job_type="export", target="products", status="completed"
    )
    assert (
        f'id="job-{rival_job.pk}"'
        not in owner_client.get(reverse("jobs:dashboard")).content.decode()
    )

    response = owner_client.post(
        reverse("accounts:switch"), {"organization": other_org.pk, "next": "/jobs/"}
    )
    assert response["Location"] == "/jobs/"
    assert owner_client.session[SESSION_KEY] == other_org.pk
    page = owner_client.get(reverse("jobs:dashboard"))
    assert page.context["current_organization"] == other_org
    assert f'id="job-{rival_job.pk}"' in page.content.decode()
    # As a viewer there, the admin-only worker check is gone.
    assert "Check the worker" not in page.content.decode()


def test_it_refuses_to_switch_to_an_organization_the_user_is_not_in(owner_client, other_org):
    response = owner_client.post(reverse("accounts:switch"), {"organization": other_org.pk})
    assert response.status_code == 404
    assert SESSION_KEY not in owner_client.session


def test_it_refuses_a_switch_to_garbage(owner_client):
    assert owner_client.post(reverse("accounts:switch"), {"organization": "x"}).status_code == 404


def test_it_never_redirects_off_site_after_switching(owner, owner_client, other_org):
    MembershipFactory(user=owner, organization=other_org)
    response = owner_client.post(
        reverse("accounts:switch"), {"organization": other_org.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_it_explains_to_a_user_without_organization(client_for, outsider):
    client = client_for(outsider)
    response = client.get(reverse("accounts:no_organization"))
    assert response.status_code == 403
    assert "not part of an organization" in response.content.decode()
    # The home page leads there too, instead of crashing.
    assert client.get("/", follow=True).redirect_chain[-1][0] == reverse("accounts:no_organization")


def test_it_sends_a_member_on_from_the_no_organization_page(owner_client):
    response = owner_client.get(reverse("accounts:no_organization"))
    assert response["Location"] == reverse("jobs:dashboard")


@organization_required
def _org_view(request):
    from django.http import HttpResponse

    return HttpResponse(request.organization.name)


@pytest.mark.parametrize("htmx", [False, True])
def test_it_guards_views_with_organization_required(rf, outsider, owner, org, htmx):
    from django.contrib.auth.models import AnonymousUser

    from accounts.middleware import membership_for

    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    def call(user):
        from django_htmx.middleware import HtmxDetails

        request = rf.get("/somewhere/", **headers)
        request.user = user
        request.htmx = HtmxDetails(request)
        request.membership = membership_for(user) if user.is_authenticated else None
        request.organization = request.membership.organization if request.membership else None
        return _org_view(request)

    assert call(owner).content.decode() == org.name
    nobody = call(outsider)
    anonymous = call(AnonymousUser())
    if htmx:
        assert nobody["HX-Redirect"] == reverse("accounts:no_organization")
        assert anonymous["HX-Redirect"] == reverse("accounts:login")
    else:
        assert nobody["Location"] == reverse("accounts:no_organization")
        assert anonymous["Location"].startswith(reverse("accounts:login"))
