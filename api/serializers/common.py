"""Fields and the error shape every resource group of the API uses."""

from __future__ import annotations

import json

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.parsers import unstorable_text

FORMATS = ("csv", "xlsx", "json", "pdf")
FORMAT_HELP = "One of CSV, XLSX, JSON or PDF (case-insensitive). PDF needs the PDF permission."


class FormatField(serializers.CharField):
    """A file format, case-insensitive on the way in, lower-case after validation."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", FORMAT_HELP)
        kwargs.setdefault("max_length", 10)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data).strip().lower()
        if value not in FORMATS:
            raise serializers.ValidationError(
                f"'{data}' is not a format Ferry writes. Use one of: CSV, XLSX, JSON, PDF."
            )
        return value


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="A message safe to show a person.")
    details = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per-field messages: {field: [message, …]}. Empty when not about fields.",
    )


@extend_schema_field(OpenApiTypes.OBJECT)
class JSONObjectField(serializers.Field):
    """A JSON object given as an object (JSON body) or as a JSON string (multipart form)."""

    # Doubled braces: DRF formats error messages with str.format.
    default_error_messages = {"invalid": 'Expected a JSON object, e.g. {{"E-mail": "email"}}.'}

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except ValueError:
                self.fail("invalid")
        if not isinstance(data, dict):
            self.fail("invalid")
        problem = unstorable_text(data)
        if problem:
            raise serializers.ValidationError(f"The object contains {problem}.")
        return data

    def to_representation(self, value):
        return value


def absolute_url(request, name: str, *args) -> str:
    url = reverse(name, args=args)
    return request.build_absolute_uri(url) if request is not None else url
