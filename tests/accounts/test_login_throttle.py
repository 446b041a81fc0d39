"""Repeated wrong passwords lock the username and the client address, on the log-in page and the
Django admin's log-in alike, with a clear message and an audit event."""

from __future__ import annotations

import time
import uuid

import pytest
from django.test import Client

from business.models import AuditEvent
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/django-admin/login/"
LOCKED = "Too many failed log-in attempts"


@pytest.fixture(autouse=True)
def own_cache(settings):
    # A cache of this test's own: counters must not leak between tests, and a shared Redis
    # must never be flushed.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"login-throttle-{uuid.uuid4()}",
        }
    }
    settings.FERRY = {
        **settings.FERRY,
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
        "LOGIN_LOCKOUT_SECONDS": 900,
        "PROXY_COUNT": 0,
    }


def attempt(
    username: str, password: str, *, address: str = "203.0.113.5", url: str = LOGIN, **meta
):
    return Client(REMOTE_ADDR=address, **meta).post(
        url, {"username": username, "password": password}
    )


def test_it_locks_a_username_after_five_wrong_passwords(member):
    for _ in range(4):
        response = attempt("member", "wrong")
        assert response.status_code == 200
        assert LOCKED not in response.content.decode()
    fifth = attempt("member", "wrong")
    assert fifth.status_code == 429
    assert LOCKED in fifth.content.decode()
    # Even the right password, and from another address: the account is locked, not the address.
    response = attempt("member", PASSWORD, address="198.51.100.7")
    assert response.status_code == 429
    html = response.content.decode()
    assert "try again in 15 minutes" in html
    assert "_auth_user_id" not in response.client.session


def test_it_records_the_lockout_in_the_audit_trail(member, org):
    for _ in range(5):
        attempt("member", "wrong", address="203.0.113.9")
    events = AuditEvent.objects.filter(organization=org, event_type=AuditEvent.Type.LOGIN_FAILED)
    # Five failed logins, the last of which locked the account; the password never appears.
    assert events.count() == 6
    lockout = events.get(details__locked_out=True)
    assert lockout.object_repr == "member"
    assert lockout.ip_address == "203.0.113.9"
    assert lockout.details["lock"] == "this account"
    assert lockout.details["failed_attempts"] == 5
    assert "wrong" not in str(lockout.details)


def test_it_lets_the_user_in_again_once_the_lock_expires(member, monkeypatch):
    for _ in range(5):
        attempt("member", "wrong")
    later = time.time() + 901
    monkeypatch.setattr(time, "time", lambda: later)
    response = attempt("member", PASSWORD)
    assert response.status_code == 302


def test_it_forgets_failures_after_a_successful_log_in(member):
    for _ in range(4):
        attempt("member", "wrong")
    assert attempt("member", PASSWORD).status_code == 302
    for _ in range(4):
        assert attempt("member", "wrong").status_code == 200
    assert attempt("member", PASSWORD).status_code == 302


def test_it_locks_an_address_that_tries_many_usernames(member):
    for index in range(20):
        attempt(f"guess{index}", "wrong", address="192.0.2.66")
    response = attempt("member", PASSWORD, address="192.0.2.66")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    # Other addresses are not affected.
    assert attempt("member", PASSWORD, address="192.0.2.67").status_code == 302


def test_it_ignores_a_forwarded_address_unless_proxies_are_configured(member, settings):
    # A client cannot dodge the address lock by making up X-Forwarded-For values.
    for index in range(20):
        attempt(
            f"guess{index}", "wrong", address="192.0.2.66", HTTP_X_FORWARDED_FOR=f"10.0.0.{index}"
        )
    assert attempt("member", PASSWORD, address="192.0.2.66").status_code == 429
    # Behind one trusted proxy, the address the proxy saw is the client's.
    settings.FERRY = {**settings.FERRY, "PROXY_COUNT": 1}
    for index in range(20):
        attempt(
            f"other{index}",
            "wrong",
            address="10.9.9.9",
            HTTP_X_FORWARDED_FOR="spoofed, 198.51.100.20",
        )
    blocked = attempt("member", PASSWORD, address="10.9.9.9", HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert blocked.status_code == 429
    other = attempt("member", PASSWORD, address="10.9.9.9", HTTP_X_FORWARDED_FOR="198.51.100.21")
    assert other.status_code == 302


def test_it_throttles_the_django_admin_log_in_with_the_same_counters(owner):
    for _ in range(3):
        attempt("owner", "wrong", url=ADMIN_LOGIN)
    for _ in range(2):
        attempt("owner", "wrong")
    response = attempt("owner", PASSWORD, url=ADMIN_LOGIN)
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in response.client.session
