"""Organization scoping: every query a request makes goes through these helpers.

Another organization's object is answered with 404, never 403, so its existence does not leak.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

M = TypeVar("M", bound=models.Model)


def scoped(model_or_qs, organization) -> models.QuerySet:
    qs = model_or_qs if isinstance(model_or_qs, models.QuerySet) else model_or_qs._default_manager
    if organization is None:
        return qs.none()
    return qs.filter(organization=organization)


def get_scoped_or_404(model_or_qs, organization, **lookup):
    try:
        return scoped(model_or_qs, organization).get(**lookup)
    except (models.ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Not found.") from exc


def require_perm(request, code: str) -> None:
    membership = getattr(request, "membership", None)
    if membership is None or not membership.has_perm(code):
        raise PermissionDenied(f"You do not have the permission {code}.")


def has_perm(request_or_membership, code: str) -> bool:
    membership = getattr(request_or_membership, "membership", request_or_membership)
    return membership is not None and membership.has_perm(code)
