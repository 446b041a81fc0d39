"""What a resource is to a client: its fields, filters and the caller's rights on it."""

from __future__ import annotations

from rest_framework import serializers


class ReferenceSerializer(serializers.Serializer):
    resource = serializers.CharField()
    key = serializers.CharField()


class ResourceFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    type = serializers.CharField()
    required = serializers.BooleanField()
    key = serializers.BooleanField(help_text="Part of the natural key (duplicate matching).")
    synonyms = serializers.ListField(child=serializers.CharField())
    choices = serializers.ListField(child=serializers.CharField())
    reference = ReferenceSerializer(allow_null=True)
    help_text = serializers.CharField(allow_blank=True)


class FilterChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class ResourceFilterSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    type = serializers.CharField()
    choices = FilterChoiceSerializer(many=True)
    field = serializers.CharField(allow_null=True, required=False)
    lookup = serializers.CharField(allow_null=True, required=False)


class ResourcePermissionsSerializer(serializers.Serializer):
    can_import = serializers.BooleanField()
    can_export = serializers.BooleanField()
    can_export_pdf = serializers.BooleanField()


class ResourceSummarySerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    key = serializers.ListField(child=serializers.CharField())
    importable = serializers.BooleanField()
    permissions = ResourcePermissionsSerializer()
    url = serializers.URLField()


class ResourceDetailSerializer(ResourceSummarySerializer):
    fields = ResourceFieldSerializer(many=True)
    filters = ResourceFilterSerializer(many=True)
