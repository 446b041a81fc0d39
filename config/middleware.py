"""Content-Security-Policy: Django 5.2 has no setting for it, so one small middleware sends the
policy of ``settings.CONTENT_SECURITY_POLICY`` (from the environment) on every response."""

from __future__ import annotations

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy:
            header = (
                "Content-Security-Policy-Report-Only"
                if settings.CONTENT_SECURITY_POLICY_REPORT_ONLY
                else "Content-Security-Policy"
            )
            # A view may set its own (stricter) policy.
            response.headers.setdefault(header, policy)
        return response
