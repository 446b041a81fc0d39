"""A signed-in user without an organization is sent to an explanation by every app page."""

import pytest
from django.urls import reverse

APP_PAGES = [
    "/",
    "/jobs/",
    "/records/",
    "/records/contacts/",
    "/import/",
    "/import/templates/",
    "/export/",
    "/export/reports/",
]


@pytest.mark.parametrize("url", APP_PAGES)
def test_it_sends_a_user_without_organization_to_the_explanation(client_for, outsider, url):
    response = client_for(outsider).get(url, follow=True)
    assert response.status_code == 403
    assert response.redirect_chain[-1][0] == reverse("accounts:no_organization")
    assert "not part of an organization" in response.content.decode()


@pytest.mark.parametrize("url", APP_PAGES[1:])
def test_it_sends_an_anonymous_visitor_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


def test_it_asks_htmx_to_navigate_instead_of_swapping_a_redirect(client_for, outsider):
    response = client_for(outsider).get(reverse("jobs:dashboard"), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == reverse("accounts:no_organization")
