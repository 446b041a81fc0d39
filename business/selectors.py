"""Read-side helpers for the records pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models

from accounts.permissions import VIEW_AUDIT
from business.filters import filters_apply, select_related_paths
from business.resources import registry
from business.resources.base import Resource


def records_browsable(resource: type[Resource], membership) -> bool:
    """Every member may browse the records, except the audit trail (who logged in from where),
    which needs ``can_view_audit`` like the audit pages and reports do."""
    if membership is None:
        return False
    if resource.name == "audit-events":
        return membership.has_perm(VIEW_AUDIT)
    return True


def records_overview(*, organization, membership=None) -> list[dict[str, Any]]:
    """Every resource with its record count in the organization, and what the member may do."""
    out = []
    for resource in registry.all():
        if not records_browsable(resource, membership):
            continue
        out.append(
            {
                "resource": resource,
                "count": resource.queryset(organization).count(),
                "can_export": membership is not None
                and membership.has_perm(resource.export_permission()),
                "can_import": membership is not None
                and resource.importable
                and membership.has_perm(resource.import_permission()),
            }
        )
    return out


def records_filtered(
    *,
    resource: type[Resource],
    organization,
    data: Mapping[str, Any],
    ignore=(),
) -> models.QuerySet:
    """The organization's filtered records, with references joined for display."""
    qs = filters_apply(resource=resource, organization=organization, data=data, ignore=ignore)
    paths = select_related_paths(resource)
    return qs.select_related(*paths) if paths else qs
