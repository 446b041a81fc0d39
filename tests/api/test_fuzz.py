"""Schemathesis fuzzes every operation of /api/schema/ through the WSGI app, with a token.

Bounded (a few examples per operation, no deadline) so CI stays fast. Checks: no 5xx, status
codes, content types, headers and bodies as the schema documents them.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import make_job, make_token

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


# Loaded once at collection through the WSGI app (the schema view needs no database).
# schemathesis.pytest.from_fixture would be lazier but fails on pytest 9 (Function._nodeid).
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_test_connection(db):
    # Like Django's test client: keep the test's connection (and its transaction) open across
    # requests, so everything a request writes is rolled back with the test.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_token(owner, org):
    from library.models import DataTemplate

    # Something to find: jobs with files and a log, a template.
    job = make_job(org, owner, output=("out.csv", b"a\n1\n"), status="completed")
    make_job(org, owner, job_type="import", input=("in.csv", b"email\nx\n"), status="queued")
    DataTemplate.objects.create(organization=org, name="Fuzz", resource="contacts")
    assert job.pk
    return make_token(owner, org, "fuzz")


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_it_answers_every_operation_as_documented(case, fuzz_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_token}"}, checks=CHECKS)
