"""What a caller may import and export, with each resource's fields and filters."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from api.permissions import membership_of
from api.serializers.resources import ResourceDetailSerializer, ResourceSummarySerializer
from api.views.common import errors
from business.filters import filters_describe
from business.resources import registry, resource_get


def _rights(resource, membership) -> dict[str, bool]:
    """What the membership may do with the resource; it sees the resource if it may do either."""
    return {
        "can_import": resource.importable and membership.has_perm(resource.import_permission()),
        "can_export": membership.has_perm(resource.export_permission()),
        "can_export_pdf": membership.has_perm(resource.export_pdf_permission()),
    }


def _visible(rights: dict[str, bool]) -> bool:
    return rights["can_import"] or rights["can_export"]


def _resource_summary(request, resource) -> dict:
    described = resource.describe()
    return {
        "name": described["name"],
        "label": described["label"],
        "description": described["description"],
        "key": described["key"],
        "importable": described["importable"],
        "permissions": _rights(resource, membership_of(request)),
        "url": request.build_absolute_uri(reverse("api:resource-detail", args=[resource.name])),
    }


@extend_schema(tags=["resources"])
class ResourceViewSet(viewsets.ViewSet):
    lookup_field = "name"
    lookup_value_regex = r"[a-z0-9-]+"

    @extend_schema(
        summary="What you can import and export",
        responses={200: ResourceSummarySerializer(many=True), **errors(403)},
    )
    def list(self, request):
        membership = membership_of(request)
        visible = [r for r in registry.all() if _visible(_rights(r, membership))]
        return Response([_resource_summary(request, r) for r in visible])

    @extend_schema(
        summary="A resource's fields and filters (to build a mapping or an export)",
        responses={200: ResourceDetailSerializer, **errors(403, 404)},
    )
    def retrieve(self, request, name: str):
        resource = resource_get(name)
        if not _visible(_rights(resource, membership_of(request))):
            raise PermissionDenied(f"You may neither import nor export {resource.label}.")
        return Response(
            {
                **_resource_summary(request, resource),
                "fields": resource.describe()["fields"],
                "filters": filters_describe(resource),
            }
        )
