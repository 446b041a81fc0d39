"""Login throttling: repeated wrong passwords lock the account name, and the client address, for a
while. Used by the log-in page and the Django admin's log-in alike (``ThrottledLoginMixin``).

Counters live in Django's cache, which every web process of a deployment shares (Redis, or
files under var/): no extra dependency, no table, and ``authenticate()`` keeps working without
a request (django-axes' backend refuses that, which breaks ``Client.login`` and scripts). A
failure counts only when the password was wrong, not when a correct one was refused for
another reason (an inactive account, a member who is not an admin of the admin site).

Per username: ``FERRY_LOGIN_MAX_FAILURES`` (5) wrong passwords within the lockout period lock
that username. Per address: ``FERRY_LOGIN_MAX_FAILURES_PER_ADDRESS`` (20) lock the address,
whatever usernames it tries. The lock lasts ``FERRY_LOGIN_LOCKOUT_SECONDS`` (15 minutes); while
it holds, even the right password is refused, which is what stops guessing. A successful log-in
clears its username's counter. When a lock starts, ``login_locked_out`` is sent (the business
app records it in the audit trail).
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

from accounts.signals import login_locked_out

_PREFIX = "ferry:login"


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, "FERRY", {}).get(name, default))


def _lockout_seconds() -> int:
    return _setting("LOGIN_LOCKOUT_SECONDS", 15 * 60)


def login_client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or with ``FERRY_PROXY_COUNT`` trusted proxies in front,
    the X-Forwarded-For entry that many hops from the right (the left ones are the client's own
    say and can be anything)."""
    if request is None:
        return ""
    proxies = _setting("PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "")


def _key(kind: str, value: str) -> str:
    # Hashed: usernames may hold characters a cache key may not (memcached, spaces).
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"{_PREFIX}:{kind}:{digest}"


def _scopes(username: str, address: str) -> list[tuple[str, str, int]]:
    scopes = []
    if username:
        scopes.append(("username", username, _setting("LOGIN_MAX_FAILURES", 5)))
    if address:
        scopes.append(("address", address, _setting("LOGIN_MAX_FAILURES_PER_ADDRESS", 20)))
    return scopes


def login_lock_remaining(*, username: str, address: str) -> int:
    """Seconds left on a lock of this username or address (0: not locked)."""
    now = time.time()
    remaining = 0.0
    for kind, value, _limit in _scopes(username, address):
        until = cache.get(_key(f"lock:{kind}", value))
        if until:
            remaining = max(remaining, float(until) - now)
    return max(math.ceil(remaining), 0)


def login_failure_record(*, username: str, address: str, request=None) -> bool:
    """Count a wrong password; lock the username or the address when it reaches its limit.

    True when this failure started a lock."""
    period = _lockout_seconds()
    locked = False
    for kind, value, limit in _scopes(username, address):
        key = _key(f"failures:{kind}", value)
        # add() starts the window; incr() is atomic on Redis (and good enough on files).
        cache.add(key, 0, timeout=period)
        try:
            failures = cache.incr(key)
        except ValueError:
            # Expired between add() and incr(): this failure starts a new window.
            cache.set(key, 1, timeout=period)
            failures = 1
        if failures >= limit and cache.add(
            _key(f"lock:{kind}", value), time.time() + period, timeout=period
        ):
            cache.delete(key)
            locked = True
            login_locked_out.send(
                sender=login_failure_record,
                username=username,
                address=address,
                scope=kind,
                failures=failures,
                seconds=period,
                request=request,
            )
    return locked


def login_success_record(*, username: str) -> None:
    cache.delete(_key("failures:username", username))


def login_locked_message(seconds: int) -> str:
    minutes = max(math.ceil(seconds / 60), 1)
    wait = "a minute" if minutes == 1 else f"{minutes} minutes"
    return (
        "Too many failed log-in attempts. To protect the account, logging in is paused: "
        f"try again in {wait}. If you have forgotten your password, ask an administrator of "
        "your organization to reset it."
    )


class ThrottledLoginMixin:
    """For an ``AuthenticationForm``: refuse while locked, count wrong passwords."""

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip()
        address = login_client_address(self.request)
        remaining = login_lock_remaining(username=username, address=address)
        if remaining:
            raise ValidationError(login_locked_message(remaining), code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            if self.user_cache is None and username:
                locked = login_failure_record(
                    username=username, address=address, request=self.request
                )
                if locked:
                    raise ValidationError(
                        login_locked_message(_lockout_seconds()), code="throttled"
                    ) from None
            raise
        login_success_record(username=username)
        return cleaned

    def is_throttled(self) -> bool:
        return any(error.code == "throttled" for error in self.errors.as_data().get("__all__", []))


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    """The log-in page's form."""
