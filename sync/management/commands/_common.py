"""What the sync commands share: finding the organization and the acting admin."""

from __future__ import annotations

from accounts.models import Membership, Organization
from accounts.permissions import Role
from jobs.console import organization_from_option


def organization_get(slug: str | None) -> Organization:
    return organization_from_option(slug)


def admin_get(org: Organization):
    membership = (
        Membership.objects.filter(organization=org, role=Role.ADMIN)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return membership.user if membership else None
