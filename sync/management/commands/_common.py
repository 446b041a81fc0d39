"""What the sync commands share: finding the organization and the acting admin."""

from __future__ import annotations

from django.core.management.base import CommandError

from accounts.models import Membership, Organization
from accounts.permissions import Role


def organization_get(slug: str | None) -> Organization:
    if slug:
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            raise CommandError(f"No organization with slug '{slug}'.")
        return org
    orgs = list(Organization.objects.all()[:2])
    if len(orgs) != 1:
        raise CommandError(
            "There is more than one organization: choose one with --org SLUG."
            if orgs
            else "There is no organization yet."
        )
    return orgs[0]


def admin_get(org: Organization):
    membership = (
        Membership.objects.filter(organization=org, role=Role.ADMIN)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return membership.user if membership else None
