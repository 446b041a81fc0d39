"""The resource export as one kind of exporter: one class per resource, derived on demand.

Parameters: ``{"filters": {name: [values]}, "columns": [field names in order],
"options": {"delimiter": ";", "bom": True, "choice_codes": True}}``; all optional (the
resource's default columns, no filter). A saved export template fills in what is not given.
"""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar

from django.conf import settings

from business.filters import filters_validate
from business.resources import Resource
from business.writers import FORMATS, PdfRowLimit
from jobs.errors import FerryError
from reports.exporters import Cleaned, Exporter, ExportPermissionDenied
from reports.exports.selectors import (
    export_chunks,
    export_column,
    export_fields,
    export_filters_text,
    export_queryset,
)
from reports.exports.services import (
    UnknownExportFormat,
    export_columns_clean,
    export_options_clean,
)

PARAM_NAMES = ("filters", "columns", "options")


class ResourceExporter(Exporter):
    """Exports one resource's records, filtered, in the chosen columns and order."""

    kind = "records"
    noun = "export"
    order = 1000  # after the reports wherever both are listed
    formats = tuple(FORMATS)
    job_type = "export"
    audit_event = "export"
    resource: ClassVar[type[Resource]]

    @classmethod
    def permission_for(cls, format: str) -> str:
        if format == "pdf":
            return cls.resource.export_pdf_permission()
        return cls.resource.export_permission()

    @classmethod
    def permission_check(cls, *, membership, format: str) -> None:
        if not cls.may_run(membership):
            raise ExportPermissionDenied(f"You may not export {cls.resource.label}.")
        if not cls.may_export(membership, format):
            raise ExportPermissionDenied(f"You may not export {cls.resource.label} as PDF.")

    @classmethod
    def format_clean(cls, format: str) -> str:
        key = (format or "").strip().lower()
        if key not in cls.formats:
            raise UnknownExportFormat(format)
        return key

    @classmethod
    def params_clean(cls, *, organization, params: dict[str, Any] | None) -> Cleaned:
        params = params or {}
        filters = filters_validate(resource=cls.resource, data=params.get("filters") or {})
        return Cleaned(
            params={
                "filters": filters,
                "columns": export_columns_clean(
                    resource=cls.resource, columns=params.get("columns")
                ),
                "options": export_options_clean(params.get("options")),
            },
            filters_text=export_filters_text(resource=cls.resource, filters=filters),
        )

    @classmethod
    def template_apply(cls, *, template, format: str, params: dict[str, Any]):
        if template.resource != cls.resource.name:
            raise FerryError(
                f"The template '{template.name}' exports {template.resource}, not "
                f"{cls.resource.name}."
            )
        mapping = template.mapping or {}
        given = {name: params.get(name) for name in PARAM_NAMES}
        return format or mapping.get("format") or "xlsx", {
            "filters": given["filters"] or mapping.get("filters") or {},
            "columns": given["columns"] or mapping.get("columns") or [],
            "options": given["options"] or template.options or {},
        }

    @classmethod
    def check(cls, *, organization, format: str, params: dict[str, Any]) -> None:
        if format == "pdf":
            limit = settings.FERRY["PDF_MAX_ROWS"]
            queryset = export_queryset(
                resource=cls.resource, organization=organization, filters=params["filters"]
            )
            if queryset.count() > limit:
                raise PdfRowLimit(limit)

    @classmethod
    def job_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        return dict(params)

    @classmethod
    def params_of(cls, job) -> dict[str, Any]:
        stored = job.params or {}
        return {name: stored.get(name) for name in PARAM_NAMES}

    @classmethod
    def writer_options(cls, *, format: str, params: dict[str, Any]) -> dict[str, Any]:
        return dict(params.get("options") or {})

    @classmethod
    def audit_repr(cls, *, format: str) -> str:
        return f"Export of {cls.resource.label} as {FORMATS[format]}"

    @classmethod
    def audit_details(cls, *, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "resource": cls.resource.name,
            "columns": params.get("columns"),
            "filters": params.get("filters"),
        }

    @classmethod
    def job_summary(cls, *, job, params: dict[str, Any], result: dict[str, Any]) -> dict:
        field_map = cls.resource.field_map()
        # Shown as is on the job page: labels, not internal names.
        return {
            "rows": result["rows"],
            "records": cls.resource.label,
            "format": FORMATS[job.format],
            "columns": [field_map[c].label for c in params.get("columns") or [] if c in field_map],
            "filters": (job.params or {}).get("filters_text") or ["none"],
            "size_bytes": result.get("size_bytes", 0),
        }

    def render(self, *, organization, params: dict[str, Any], writer, progress) -> dict:
        resource = self.resource
        fields = export_fields(resource=resource, columns=params["columns"])
        queryset = export_queryset(
            resource=resource, organization=organization, filters=params["filters"]
        )
        total = queryset.count()
        if writer.extension == "pdf" and total > settings.FERRY["PDF_MAX_ROWS"]:
            raise PdfRowLimit(settings.FERRY["PDF_MAX_ROWS"])
        progress.set_total(total)
        # Choices as the screen shows them (Invoiced) unless codes (invoiced) were asked for.
        labels = not params["options"].get("choice_codes")
        source = export_chunks(queryset=queryset, fields=fields, labels=labels)
        written = 0
        writer.section(
            resource.label,
            [export_column(f, key=resource.key) for f in fields],
            converters=source.converters,
        )
        for chunk in source.chunks:
            written += writer.chunk(chunk)
            progress.update(processed=written, succeeded=written)
            progress.check_cancel()
        progress.update(processed=written, succeeded=written, force=True)
        return {"rows": written}


@cache
def resource_exporter(resource: type[Resource]) -> type[ResourceExporter]:
    """The exporter class of one resource (the same class on every call)."""
    return type(
        f"{resource.__name__.removesuffix('Resource')}Exporter",
        (ResourceExporter,),
        {
            "__module__": __name__,
            "identifier": resource.name,
            "name": resource.label,
            "description": resource.description,
            "resource": resource,
        },
    )
