"""Who a request acts as: a personal API token (scripts) or the browser session.

Either way the request ends up with ``request.membership`` and ``request.organization``, the
same attributes the UI's middleware sets, so permission checks and scoping read alike.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from api.tokens import TokenInvalid, token_authenticate

KEYWORDS = ("bearer", "token")


def _set_membership(request, membership) -> None:
    # The Django request underneath DRF's: views, permission classes and scoping all read it.
    django_request = getattr(request, "_request", request)
    django_request.membership = membership
    django_request.organization = membership.organization if membership else None


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer fry_…`` — acts in the token's organization with that membership."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="replace") not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: expected 'Bearer <token>'."
            )
        try:
            raw = header[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid API token.") from exc
        try:
            token, membership = token_authenticate(raw)
        except TokenInvalid as exc:
            raise exceptions.AuthenticationFailed(exc.message) from exc
        _set_membership(request, membership)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The browser session (with CSRF); the organization is the one chosen in the UI."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            _set_membership(request, getattr(request._request, "membership", None))
        return result


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token from /api/tokens/ (fry_…).",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
