"""A saved import or export template."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers.common import JSONObjectField
from business.resources import registry
from library.models import DataTemplate


class DataTemplateSerializer(serializers.ModelSerializer):
    type = serializers.ChoiceField(
        source="template_type", choices=DataTemplate.Type.choices, default=DataTemplate.Type.IMPORT
    )
    resource = serializers.ChoiceField(
        choices=[(r.name, r.label) for r in registry.all()],
        error_messages={
            "invalid_choice": "Unknown resource '{input}'. Known: "
            + ", ".join(sorted(r.name for r in registry.all()))
            + "."
        },
    )
    mapping = JSONObjectField(required=False)
    options = JSONObjectField(required=False)
    rules = JSONObjectField(required=False)
    created_by = serializers.SerializerMethodField()

    class Meta:
        model = DataTemplate
        fields = [
            "id",
            "name",
            "description",
            "resource",
            "type",
            "mapping",
            "options",
            "rules",
            "on_duplicate",
            "mode",
            "is_shared",
            "is_active",
            "created_by",
            "created_at",
            "updated_at",
            "last_used_at",
        ]
        read_only_fields = ["id", "created_by", "created_at", "updated_at", "last_used_at"]
        extra_kwargs = {
            "name": {"max_length": 200},
            "is_shared": {
                "help_text": "Shared with the whole organization (template managers only)."
            },
        }

    def get_created_by(self, template) -> str | None:
        user = template.created_by
        return user.get_username() if user else None

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("Give the template a name.")
        return value
