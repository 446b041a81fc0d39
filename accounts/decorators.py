"""Guards for every page that works on an organization's data.

A signed-in user without any membership has nothing to look at; instead of letting a view crash
on ``request.organization is None`` they are sent to a page that explains what to do.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import redirect, resolve_url

NO_ORGANIZATION_URL = "accounts:no_organization"


def _redirect(request, to: str) -> HttpResponse:
    # An htmx request would swap the redirected page into a fragment; ask htmx to navigate.
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = to
        return response
    return redirect(to)


def _guard(request) -> HttpResponse | None:
    if not request.user.is_authenticated:
        if getattr(request, "htmx", False):
            return _redirect(request, resolve_url("accounts:login"))
        return redirect_to_login(request.get_full_path())
    if getattr(request, "membership", None) is None:
        return _redirect(request, resolve_url(NO_ORGANIZATION_URL))
    return None


def organization_required(view_func):
    """Require a signed-in user who is a member of an organization (``request.organization``)."""

    @wraps(view_func)
    def wrapper(request, *args, **kwargs):
        refused = _guard(request)
        if refused is not None:
            return refused
        return view_func(request, *args, **kwargs)

    return wrapper


class OrganizationRequiredMixin:
    """Class-based-view twin of :func:`organization_required`."""

    def dispatch(self, request, *args, **kwargs):
        refused = _guard(request)
        if refused is not None:
            return refused
        return super().dispatch(request, *args, **kwargs)
