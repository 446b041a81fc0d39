"""The API checks the same permission codes as the UI, against the request's membership."""

from __future__ import annotations

from rest_framework import exceptions, permissions

from accounts.permissions import MANAGE_TEMPLATES


def membership_of(request):
    return getattr(request, "membership", None)


class IsOrganizationMember(permissions.BasePermission):
    """Signed in and acting in an organization (a token always has one; a session may not)."""

    message = "You are not a member of any organization."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return membership_of(request) is not None


def require_code(request, code: str, message: str | None = None) -> None:
    membership = membership_of(request)
    if membership is None or not membership.has_perm(code):
        raise exceptions.PermissionDenied(message or f"You do not have the permission {code}.")


def can_manage_templates(request) -> bool:
    membership = membership_of(request)
    return membership is not None and membership.has_perm(MANAGE_TEMPLATES)
