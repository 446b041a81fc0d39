"""Fixtures for API tests: tokens for the cast and clients that send them."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from api.tokens import token_create


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _api_rate(settings):
    """A generous rate and empty counters, so only the throttling tests see 429."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "100000/minute"},
    }
    # Counters are keyed by the token's random prefix, so tests never share them; with Redis
    # the store is shared with other runs and must not be flushed.
    cache.clear()


def make_token(user, organization, name: str = "script") -> str:
    _, raw = token_create(user=user, organization=organization, name=name)
    return raw


def token_client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api_for(org, other_org):
    """``api_for(user)``: an API client with a fresh token of the user's organization."""

    def build(user, organization=None):
        if organization is None:
            organization = user.memberships.first().organization
        return token_client(make_token(user, organization))

    return build


@pytest.fixture
def owner_api(api_for, owner):
    return api_for(owner)


@pytest.fixture
def member_api(api_for, member):
    return api_for(member)


@pytest.fixture
def viewer_api(api_for, viewer):
    return api_for(viewer)


@pytest.fixture
def manager_api(api_for, manager):
    return api_for(manager)


@pytest.fixture
def other_api(api_for, other_user):
    return api_for(other_user)


def make_job(organization, user=None, **fields):
    """A job row as the services leave it (files written through the storage API)."""
    from django.core.files.base import ContentFile

    from jobs.models import DataJob

    files = {k: fields.pop(k) for k in ("input", "output", "failed_rows") if k in fields}
    fields.setdefault("job_type", DataJob.Type.EXPORT)
    fields.setdefault("target", "contacts")
    job = DataJob.objects.create(organization=organization, user=user, **fields)
    if "input" in files:
        name, content = files["input"]
        job.input_file.save(name, ContentFile(content), save=False)
        job.input_filename = name
    if "output" in files:
        name, content = files["output"]
        job.output_file.save(name, ContentFile(content), save=False)
        job.output_filename = name
    if "failed_rows" in files:
        name, content = files["failed_rows"]
        stored = job.output_file.storage.save(
            f"jobs/{organization.pk}/{job.pk}/{name}", ContentFile(content)
        )
        job.summary = {**job.summary, "files": {"failed-rows": {"name": stored, "filename": name}}}
    job.save()
    return job
