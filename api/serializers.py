"""Request and response shapes of the API (they are also the OpenAPI schema)."""

from __future__ import annotations

import json
from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.parsers import unstorable_text
from business.resources import registry
from jobs.models import DataJob, JobLogEntry
from library.models import DataTemplate

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


# --- errors --------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="A message safe to show a person.")
    details = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per-field messages: {field: [message, …]}. Empty when not about fields.",
    )


# --- starting jobs -------------------------------------------------------------------------


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


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The CSV, TSV, XLSX, XLS, ODS, JSON or JSON Lines file. The format is read "
        "from the content, not the name."
    )
    template = serializers.IntegerField(
        required=False, min_value=1, help_text="An import template's id (its saved mapping)."
    )
    mapping = JSONObjectField(
        required=False,
        help_text="File header → field name, as a JSON object. Unmapped headers are "
        "auto-mapped (template, names, synonyms, then fuzzy).",
    )
    on_duplicate = serializers.ChoiceField(
        choices=DataTemplate.OnDuplicate.choices,
        required=False,
        help_text="What to do with a row whose natural key already exists.",
    )
    create_missing = JSONObjectField(
        required=False,
        help_text='Reference fields whose missing records may be created, e.g. {"account": true}.',
    )
    mode = serializers.ChoiceField(
        choices=DataTemplate.Mode.choices,
        required=False,
        help_text="atomic: any error writes nothing; skip-invalid: valid rows are written.",
    )
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Validate everything, write nothing."
    )
    repeats = serializers.ChoiceField(
        choices=["fail", "first", "last"],
        required=False,
        help_text="Rows repeating a key with other values: fail them (default), or keep the "
        "first or the last row's values. Identical repeats are always merged into one record.",
    )
    rounding = serializers.ChoiceField(
        choices=["reject", "half-up", "half-even"],
        required=False,
        help_text="Money and decimals with more places than the field keeps: refused "
        "(default) or rounded half-up or half-even.",
    )
    date_formats = JSONObjectField(
        required=False,
        help_text='Date formats by field (name, label or mapped column), e.g. {"birth_date": '
        '"excel-1900"} for bare Excel date numbers (excel-1900 or excel-1904), or a pattern '
        'such as "%d/%m/%Y".',
    )
    sheet = serializers.CharField(required=False, max_length=200, help_text="Spreadsheet sheet.")
    encoding = serializers.CharField(
        required=False, max_length=40, help_text="Text encoding; detected when absent."
    )
    delimiter = serializers.CharField(
        required=False, max_length=1, min_length=1, help_text="CSV delimiter; detected when absent."
    )
    header_row = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=1000,
        help_text="Row number of the header (1 = first row); detected when absent.",
    )

    def validate_encoding(self, value):
        # The same check as the wizard and the command line (a codec that is not a text
        # encoding, such as rot13 or base64, is refused with a field error).
        from wizard.readers import ReaderError, encoding_clean

        try:
            return encoding_clean(value)
        except ReaderError as exc:
            raise serializers.ValidationError(exc.message) from None

    def validate_file(self, upload):
        if unstorable_text(upload.name or ""):
            raise serializers.ValidationError(
                "The file name contains characters Ferry cannot store."
            )
        return upload

    def read_options(self) -> dict[str, Any]:
        data = self.validated_data
        return {k: data[k] for k in ("sheet", "encoding", "delimiter", "header_row") if k in data}


class ReportExportRequestSerializer(serializers.Serializer):
    format = FormatField()
    params = serializers.DictField(
        required=False,
        default=dict,
        help_text="The report's parameters (see GET /api/v1/reports/). They may also be given "
        "at the top level of the body next to 'format'.",
    )


# --- jobs ----------------------------------------------------------------------------------


def _absolute(request, name: str, *args) -> str:
    url = reverse(name, args=args)
    return request.build_absolute_uri(url) if request is not None else url


def job_file_kinds(job: DataJob) -> dict[str, str]:
    """File kind → download name, for the files this job has."""
    out: dict[str, str] = {}
    if job.input_file:
        out["input"] = job.input_filename or job.input_file.name.rsplit("/", 1)[-1]
    if job.output_file:
        out["output"] = job.output_filename or job.output_file.name.rsplit("/", 1)[-1]
    files = job.summary.get("files") if isinstance(job.summary, dict) else None
    if isinstance(files, dict):
        for kind, entry in files.items():
            if isinstance(entry, dict) and entry.get("name"):
                out[kind] = entry.get("filename") or entry["name"].rsplit("/", 1)[-1]
    return out


class JobFileSerializer(serializers.Serializer):
    kind = serializers.CharField()
    filename = serializers.CharField()
    url = serializers.URLField()


class JobLinksSerializer(serializers.Serializer):
    self = serializers.URLField()
    log = serializers.URLField()
    cancel = serializers.URLField()
    undo = serializers.URLField(allow_null=True)
    download = serializers.URLField(allow_null=True)
    input = serializers.URLField(allow_null=True)
    failed_rows = serializers.URLField(allow_null=True)


class CountsSerializer(serializers.Serializer):
    total = serializers.IntegerField(allow_null=True)
    processed = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField()


class DataJobSerializer(serializers.ModelSerializer):
    job_id = serializers.IntegerField(source="pk", read_only=True)
    url = serializers.SerializerMethodField()
    type = serializers.CharField(source="job_type", read_only=True)
    resource = serializers.CharField(
        source="target", read_only=True, help_text="The resource name or report identifier."
    )
    progress = serializers.IntegerField(source="percent", read_only=True, help_text="0–100.")
    counts = serializers.SerializerMethodField()
    duration_seconds = serializers.SerializerMethodField()
    stalled = serializers.BooleanField(source="is_stalled", read_only=True)
    error = serializers.CharField(source="error_message", read_only=True)
    user = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = DataJob
        fields = [
            "job_id",
            "url",
            "type",
            "status",
            "resource",
            "format",
            "progress",
            "counts",
            "created_at",
            "queued_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "stalled",
            "cancel_requested",
            "error",
            "user",
            "summary",
            "files",
            "links",
        ]
        read_only_fields = fields

    def _request(self):
        return self.context.get("request")

    def _job_url(self, job, suffix: str = "") -> str:
        """``…/api/v1/data-jobs/<id>/<suffix>``: one reverse() per response, not eight per job."""
        base = self.context.get("_jobs_base")
        if base is None:
            base = self.context["_jobs_base"] = _absolute(self._request(), "api:datajob-list")
        return f"{base}{job.pk}/{suffix}"

    def get_url(self, job) -> str:
        return self._job_url(job)

    @extend_schema_field(CountsSerializer)
    def get_counts(self, job) -> dict[str, Any]:
        return {
            "total": job.total,
            "processed": job.processed,
            "succeeded": job.succeeded,
            "failed": job.failed,
            "skipped": job.skipped,
        }

    def to_representation(self, job):
        data = super().to_representation(job)
        if isinstance(data.get("summary"), dict) and "files" in data["summary"]:
            # Storage paths are internal; "files" and "links" give the download URLs instead.
            data["summary"] = {k: v for k, v in data["summary"].items() if k != "files"}
        return data

    def get_duration_seconds(self, job) -> float | None:
        duration = job.duration
        return round(duration.total_seconds(), 3) if duration is not None else None

    def get_user(self, job) -> str | None:
        return job.user.get_username() if job.user_id and job.user else None

    @extend_schema_field(JobFileSerializer(many=True))
    def get_files(self, job) -> list[dict[str, str]]:
        return [
            {"kind": kind, "filename": filename, "url": self._job_url(job, f"files/{kind}/")}
            for kind, filename in job_file_kinds(job).items()
        ]

    @extend_schema_field(JobLinksSerializer)
    def get_links(self, job) -> dict[str, str | None]:
        kinds = job_file_kinds(job)

        def file_link(suffix, kind):
            return self._job_url(job, suffix) if kind in kinds else None

        return {
            "self": self._job_url(job),
            "log": self._job_url(job, "log/"),
            "cancel": self._job_url(job, "cancel/"),
            "undo": self._job_url(job, "undo/") if job.job_type == DataJob.Type.IMPORT else None,
            "download": file_link("download/", "output"),
            "input": file_link("input/", "input"),
            "failed_rows": file_link("failed-rows/", "failed-rows"),
        }


class JobLogEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = JobLogEntry
        fields = ["id", "row_number", "column", "value", "message", "level"]
        read_only_fields = fields


class UndoRequestSerializer(serializers.Serializer):
    force = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also undo the records the plan leaves alone (changed since, or needed by "
        "records the import did not create); what cascades remove with them is in the plan.",
    )
    plan = serializers.CharField(
        required=False,
        max_length=64,
        help_text="The digest of the plan you looked at (GET undo/): if the records changed "
        "since, nothing is undone and the answer is 409.",
    )


class UndoModelRowSerializer(serializers.Serializer):
    model = serializers.CharField()
    label = serializers.CharField()
    delete = serializers.IntegerField(help_text="Records deleted, including by cascade.")
    cascade = serializers.IntegerField(help_text="Of those, removed by a cascade.")
    restore = serializers.IntegerField()
    unlink = serializers.IntegerField(help_text="Records whose reference is cleared.")
    kept = serializers.IntegerField(help_text="Records left alone (conflicts).")


class UndoPlanSerializer(serializers.Serializer):
    force = serializers.BooleanField()
    delete = serializers.IntegerField()
    restore = serializers.IntegerField()
    kept = serializers.IntegerField()
    by_model = UndoModelRowSerializer(many=True)
    conflicts = serializers.ListField(child=serializers.CharField())
    digest = serializers.CharField()


class UndoResultSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()
    restored = serializers.IntegerField()
    conflicts = serializers.ListField(child=serializers.JSONField())
    by_model = UndoModelRowSerializer(many=True)
    job = DataJobSerializer()


# --- resources -----------------------------------------------------------------------------


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
        "url": _absolute(request, "api:report-export", report.identifier),
    }


# --- templates -----------------------------------------------------------------------------


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
