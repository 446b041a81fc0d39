"""Error bodies are JSON with a message and details; rate limits answer 429 with Retry-After."""

from __future__ import annotations

import pytest

from tests.api.conftest import make_token, token_client

pytestmark = pytest.mark.django_db

JOBS = "/api/v1/data-jobs/"


@pytest.fixture
def low_rate(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "3/minute"},
    }


def test_it_throttles_per_token_with_retry_after(low_rate, owner, member, org):
    api = token_client(make_token(owner, org))
    for _ in range(3):
        assert api.get(JOBS).status_code == 200
    response = api.get(JOBS)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert "throttled" in response.json()["error"].lower()
    assert response.json()["details"] == {}
    # Another token (even of the same user) has its own budget.
    other = token_client(make_token(owner, org, "second"))
    assert other.get(JOBS).status_code == 200


def test_it_throttles_a_browser_session_per_user(low_rate, owner_client):
    codes = [owner_client.get(JOBS).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_it_answers_405_as_json(owner_api):
    response = owner_api.delete(JOBS)
    assert response.status_code == 405
    assert response.json() == {"error": 'Method "DELETE" not allowed.', "details": {}}


def test_it_answers_malformed_json_with_400(owner_api):
    response = owner_api.generic(
        "POST", "/api/v1/templates/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["error"]


def test_it_answers_403_for_a_session_user_without_an_organization(client, outsider):
    client.force_login(outsider)
    response = client.get(JOBS)
    assert response.status_code == 403
    assert response.json()["error"] == "You are not a member of any organization."


def test_it_requires_csrf_for_session_writes(owner):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post("/api/v1/templates/", {}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "x", "resource": "contacts", "mapping": {"a\\u0000": "email"}}',
        '{"name": "x\\u0000", "resource": "contacts"}',
        '{"name": "x", "resource": "contacts", "description": "\\ud800 lone"}',
    ],
)
def test_it_refuses_text_no_database_can_store(owner_api, body):
    # Found by the fuzz test on PostgreSQL: NUL and lone surrogates were a 500 there.
    response = owner_api.generic(
        "POST", "/api/v1/templates/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["error"] or "surrogate" in response.json()["error"]


def test_it_refuses_a_nul_in_a_multipart_mapping(member_api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = member_api.post(
        "/api/v1/contacts/import/",
        {
            "file": SimpleUploadedFile("c.csv", b"Email\na@example.com\n"),
            "mapping": '{"Email\\u0000": "email"}',
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["details"]["mapping"][0]
