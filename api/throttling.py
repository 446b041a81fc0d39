"""Rate limit per API token (per user for the browser session, per address for anonymous calls).

The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api"]`` (env ``FERRY_API_RATE``), read on
every request so a settings change applies at once. With ``REDIS_URL`` set the counters live in
Redis, so every web process on every machine shares one budget per token.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.cache import cache as default_cache
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken


@cache
def _redis_cache(url: str):
    from django.core.cache.backends.redis import RedisCache

    return RedisCache(url, {"KEY_PREFIX": "ferry-api-throttle"})


def throttle_cache():
    url = getattr(settings, "REDIS_URL", "")
    return _redis_cache(url) if url else default_cache


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"
    cache_format = "ferry-throttle:%(scope)s:%(ident)s"

    def __init__(self):
        self.cache = throttle_cache()
        super().__init__()

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            # The prefix, not the pk: a deleted token's pk may be reused by a new token.
            ident = f"token:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
