"""Exporting a resource and running a ready-made report: the requests and the report list."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.serializers.common import FormatField, absolute_url


class ExportRequestSerializer(serializers.Serializer):
    format = FormatField()
    filters = serializers.DictField(
        required=False,
        default=dict,
        help_text="Filter name → value, as listed by GET /api/v1/resources/{resource}/ "
        '(e.g. {"stage": ["customer"], "created_at_from": "2024-01-01"}).',
    )
    columns = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        allow_empty=True,
        max_length=200,
        help_text="Field names in the order wanted; the resource's default columns when absent.",
    )
    options = serializers.DictField(
        required=False,
        default=dict,
        help_text='Writer options, e.g. {"bom": true, "delimiter": ";"} for CSV.',
    )
    template = serializers.IntegerField(
        required=False, min_value=1, help_text="An export template's id to start from."
    )


class ReportExportRequestSerializer(serializers.Serializer):
    format = FormatField()
    params = serializers.DictField(
        required=False,
        default=dict,
        help_text="The report's parameters (see GET /api/v1/reports/). They may also be given "
        "at the top level of the body next to 'format'.",
    )


class ReportFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    type = serializers.CharField(
        help_text="text, date, integer, decimal, boolean, choice or multiple_choice."
    )
    required = serializers.BooleanField()
    choices = serializers.ListField(child=serializers.CharField())
    help_text = serializers.CharField(allow_blank=True)


class ReportSummarySerializer(serializers.Serializer):
    identifier = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    formats = serializers.ListField(
        child=serializers.CharField(), help_text="The formats you may ask for (PDF if permitted)."
    )
    params = ReportFieldSerializer(many=True)
    url = serializers.URLField(help_text="POST here to run the report.")


def _form_field_type(field) -> str:
    from django import forms

    for cls, name in (
        (forms.MultipleChoiceField, "multiple_choice"),
        (forms.ChoiceField, "choice"),
        (forms.BooleanField, "boolean"),
        (forms.DateTimeField, "datetime"),
        (forms.DateField, "date"),
        (forms.IntegerField, "integer"),
        (forms.DecimalField, "decimal"),
        (forms.FloatField, "decimal"),
    ):
        if isinstance(field, cls):
            return name
    return "text"


def report_describe(request, report, *, membership) -> dict[str, Any]:
    """A report and its parameters as a client needs them (choices from this organization)."""
    form = report.form(organization=membership.organization)
    params = []
    for name, field in form.fields.items():
        choices = [str(v) for v, _ in getattr(field, "choices", ()) if str(v) != ""]
        params.append(
            {
                "name": name,
                "label": str(field.label or name),
                "type": _form_field_type(field),
                "required": bool(field.required),
                "choices": choices,
                "help_text": str(field.help_text or ""),
            }
        )
    formats = report.formats_for(membership)
    return {
        "identifier": report.identifier,
        "name": report.name,
        "description": report.description,
        "formats": formats,
        "params": params,
        "url": absolute_url(request, "api:report-export", report.identifier),
    }
