"""The OpenAPI schema and the documentation page."""

from __future__ import annotations

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_it_serves_an_openapi_3_schema_of_every_endpoint(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/v1/{resource}/export/",
        "/api/v1/{resource}/import/",
        "/api/v1/reports/",
        "/api/v1/reports/{report}/export/",
        "/api/v1/data-jobs/",
        "/api/v1/data-jobs/{id}/",
        "/api/v1/data-jobs/{id}/log/",
        "/api/v1/data-jobs/{id}/download/",
        "/api/v1/data-jobs/{id}/input/",
        "/api/v1/data-jobs/{id}/failed-rows/",
        "/api/v1/data-jobs/{id}/cancel/",
        "/api/v1/data-jobs/{id}/undo/",
        "/api/v1/resources/",
        "/api/v1/resources/{name}/",
        "/api/v1/templates/",
        "/api/v1/templates/{id}/",
    } <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token from /api/tokens/ (fry_…).",
    }
    started = schema["paths"]["/api/v1/{resource}/import/"]["post"]
    assert {"202", "400", "403", "404", "413", "422", "429"} <= set(started["responses"])
    assert "multipart/form-data" in started["requestBody"]["content"]


def test_it_requires_login_for_the_docs_page(client):
    response = client.get("/api/docs/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_serves_the_docs_page_with_vendored_assets_only(owner_client):
    response = owner_client.get("/api/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<h1") == 1
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
