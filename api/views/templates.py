"""Saved import and export templates through the library's services."""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from api.pagination import Pagination
from api.parsers import StrictJSONParser
from api.permissions import membership_of
from api.serializers.templates import DataTemplateSerializer
from api.views.common import errors
from library.models import DataTemplate
from library.selectors import templates_visible
from library.services import (
    TemplateError,
    TemplatePermissionError,
    template_create,
    template_delete,
    template_update,
)


def template_for_use(
    request, pk: int | None, resource: str, template_type: str
) -> DataTemplate | None:
    """A template the user may use: shared or their own, of this organization, resource and type
    (None when the request names none)."""
    if pk is None:
        return None
    template = templates_visible_to(request).filter(pk=pk).first()
    if template is None:
        raise serializers.ValidationError({"template": [f"No template with id {pk}."]})
    if template.resource != resource or template.template_type != template_type:
        raise serializers.ValidationError(
            {
                "template": [
                    f"Template '{template.name}' is a {template.template_type} template for "
                    f"{template.resource}, not a {template_type} template for {resource}."
                ]
            }
        )
    return template


def templates_visible_to(request):
    return templates_visible(organization=request.organization, membership=membership_of(request))


@extend_schema(tags=["templates"])
@extend_schema_view(
    list=extend_schema(
        summary="Templates you can use",
        responses={200: DataTemplateSerializer(many=True), **errors(400, 403, 404)},
    ),
    retrieve=extend_schema(responses={200: DataTemplateSerializer, **errors(403, 404)}),
    create=extend_schema(responses={201: DataTemplateSerializer, **errors(400, 403)}),
    update=extend_schema(responses={200: DataTemplateSerializer, **errors(400, 403, 404)}),
    partial_update=extend_schema(responses={200: DataTemplateSerializer, **errors(400, 403, 404)}),
    destroy=extend_schema(responses={204: None, **errors(403, 404)}),
)
class DataTemplateViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = DataTemplateSerializer
    pagination_class = Pagination
    parser_classes = [StrictJSONParser]
    lookup_value_regex = r"[0-9]+"
    queryset = DataTemplate.objects.none()

    def get_queryset(self):
        return templates_visible_to(self.request)

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "organization": self.request.organization,
        }

    def _call(self, action):
        # The library's services decide (same rules as the pages); their refusals become the
        # API's answers: a refusal tied to an input is a 400 naming it, a right one lacks a 403.
        try:
            return action()
        except TemplateError as exc:
            if exc.field:
                raise serializers.ValidationError({exc.field: [exc.message]}) from exc
            if isinstance(exc, TemplatePermissionError):
                raise PermissionDenied(exc.message) from exc
            raise serializers.ValidationError({"detail": [exc.message]}) from exc

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = self._call(
            lambda: template_create(
                organization=self.request.organization,
                membership=membership_of(self.request),
                **data,
            )
        )

    def perform_update(self, serializer):
        template = serializer.instance
        changes = dict(serializer.validated_data)
        template_type = changes.pop("template_type", template.template_type)
        if template_type != template.template_type:
            raise serializers.ValidationError(
                {"type": ["A template's type cannot change. Create a new template instead."]}
            )
        self._call(
            lambda: template_update(
                template=template, membership=membership_of(self.request), **changes
            )
        )

    def perform_destroy(self, instance):
        self._call(
            lambda: template_delete(template=instance, membership=membership_of(self.request))
        )
