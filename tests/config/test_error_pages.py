"""Ferry's own 404, 403 and 500 pages, as served with DEBUG off (as in production)."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory, override_settings
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=False)
def test_it_serves_ferrys_404_page_without_listing_the_urls(member_client):
    response = member_client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert "There is nothing at this address" in html
    # Ferry's layout (the signed-in navigation), not Django's technical page.
    assert 'href="/jobs/"' in html
    assert "URLconf" not in html
    assert "django-admin/" not in html


@override_settings(DEBUG=False)
def test_it_serves_the_404_page_to_anonymous_visitors(client):
    response = client.get("/jobs/999999/nothing/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert 'href="/accounts/login/"' in html


@override_settings(DEBUG=False)
def test_it_serves_ferrys_403_page_with_the_reason(member_client):
    response = member_client.post("/jobs/worker-check/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Not allowed" in html
    assert "Only an admin can check the worker." in html
    assert 'href="/jobs/"' in html


@override_settings(DEBUG=False, ROOT_URLCONF="tests.config.crash_urls")
def test_it_serves_ferrys_500_page_when_a_view_crashes():
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html
    assert "a bug in a view" not in html
    assert "Traceback" not in html


@override_settings(DEBUG=False)
def test_it_renders_the_500_page_without_a_request_context():
    # Django renders 500.html with an empty Context: the page must need nothing from the
    # request, the session or the database (any of which may be what failed).
    response = server_error(RequestFactory().get("/anything/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
