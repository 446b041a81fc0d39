from __future__ import annotations

from accounts.models import Membership

SESSION_KEY = "ferry_organization_id"


def membership_for(user, organization_id=None) -> Membership | None:
    """The membership a request acts under: the chosen organization, else the first one."""
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("organization").filter(user=user)
    if organization_id is not None:
        chosen = memberships.filter(organization_id=organization_id).first()
        if chosen is not None:
            return chosen
    return memberships.order_by("organization__name", "pk").first()


class OrganizationMiddleware:
    """Sets ``request.organization`` and ``request.membership`` for a signed-in user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        request.organization = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            membership = membership_for(user, request.session.get(SESSION_KEY))
            if membership is not None:
                request.membership = membership
                request.organization = membership.organization
        return self.get_response(request)
