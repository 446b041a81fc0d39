"""Production settings come from the environment: `manage.py check --deploy` is clean with them."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from tests.config import environ_outside_tests

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "ferry.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://ferry.example.com",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
}


def check_deploy(tmp_path, **overrides: str) -> subprocess.CompletedProcess:
    # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser fixture for Playwright in this test
    # process; a production server never has it (and the deploy check warns about it).
    env = environ_outside_tests(
        "DATABASE_URL",
        "REDIS_URL",
        "FERRY_TESTING",
        "DJANGO_SETTINGS_MODULE",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    )
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50), FERRY_VAR_DIR=str(tmp_path / "var"), **overrides
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_the_deployment_check_with_production_settings(tmp_path):
    result = check_deploy(tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_makes_cookies_secure_once_debug_is_off(tmp_path):
    # Without the HTTPS variables the check names what is missing, but not the cookies.
    result = check_deploy(tmp_path, DEBUG="0", ALLOWED_HOSTS="ferry.example.com")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "security.W004" in output  # HSTS
    assert "security.W008" in output  # HTTPS redirect
    assert "security.W012" not in output  # SESSION_COOKIE_SECURE
    assert "security.W016" not in output  # CSRF_COOKIE_SECURE


@pytest.mark.django_db
def test_it_sends_the_content_security_policy(client):
    response = client.get("/accounts/login/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.django_db
@override_settings(
    CONTENT_SECURITY_POLICY="default-src 'none'", CONTENT_SECURITY_POLICY_REPORT_ONLY=True
)
def test_it_sends_the_policy_from_the_setting_report_only_if_asked(client):
    response = client.get("/accounts/login/")
    assert response.headers["Content-Security-Policy-Report-Only"] == "default-src 'none'"
    assert "Content-Security-Policy" not in response.headers


@pytest.mark.django_db
@override_settings(CONTENT_SECURITY_POLICY="")
def test_it_sends_no_policy_when_the_setting_is_empty(client):
    assert "Content-Security-Policy" not in client.get("/accounts/login/").headers
