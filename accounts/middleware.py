from __future__ import annotations

from accounts.models import Membership

SESSION_KEY = "ferry_organization_id"


def memberships_of(user) -> list[Membership]:
    """All of a user's memberships with their organizations, by organization name: one query."""
    if not user.is_authenticated:
        return []
    return list(
        Membership.objects.select_related("organization")
        .filter(user=user)
        .order_by("organization__name", "pk")
    )


def membership_chosen(memberships: list[Membership], organization_id=None) -> Membership | None:
    """The membership a request acts under: the chosen organization, else the first one."""
    if organization_id is not None:
        for membership in memberships:
            if str(membership.organization_id) == str(organization_id):
                return membership
    return memberships[0] if memberships else None


def membership_for(user, organization_id=None) -> Membership | None:
    """The membership a request acts under: the chosen organization, else the first one."""
    return membership_chosen(memberships_of(user), organization_id)


class OrganizationMiddleware:
    """Sets ``request.organization`` and ``request.membership`` for a signed-in user, and
    ``request.memberships``: all of theirs, which the organization switcher on every page lists.

    One query reads them all: the page's membership and the switcher's list used to be two
    queries on every page (a user belongs to a handful of organizations)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        request.organization = None
        request.memberships = []
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            request.memberships = memberships_of(user)
            membership = membership_chosen(request.memberships, request.session.get(SESSION_KEY))
            if membership is not None:
                request.membership = membership
                request.organization = membership.organization
        return self.get_response(request)
