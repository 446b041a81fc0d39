"""The export builder's operations: check, create, start and run an export job.

The builder page, the REST API and ``manage.py export_data`` all go through these functions, so
validation messages, permissions and the written files are the same everywhere.
"""

from __future__ import annotations

import shutil
import tempfile
from itertools import islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from accounts.permissions import MANAGE_TEMPLATES
from business.audit import audit_record
from business.filters import filters_validate
from business.models import AuditEvent
from business.resources import Resource, UnknownResource, resource_get
from business.writers import FORMATS, PdfRowLimit, writer_for
from jobs.errors import FerryError
from jobs.models import DataJob
from jobs.services import JobProgress, job_create, job_queue, job_save_output
from reports.exports.selectors import (
    export_column,
    export_fields,
    export_filters_text,
    export_queryset,
    export_rows,
)
from wizard.models import DataTemplate

# Progress is reported (and cancellation checked) every this many rows.
PROGRESS_EVERY = 1000


class UnknownColumn(FerryError):
    def __init__(self, resource: type[Resource], name: str):
        known = ", ".join(f.name for f in resource.fields)
        super().__init__(
            f"Unknown column '{name}' for {resource.label}. Known columns: {known}.",
            code="unknown_column",
        )


class UnknownExportResource(FerryError):
    def __init__(self, name: str):
        super().__init__(str(UnknownResource(name)), code="unknown_resource")


class UnknownExportFormat(FerryError):
    def __init__(self, format: str):
        super().__init__(
            f"Unknown export format '{format}'. Choose one of: {', '.join(FORMATS)}.",
            code="unknown_format",
        )


def export_resource(resource: str | type[Resource]) -> type[Resource]:
    if not isinstance(resource, str):
        return resource
    try:
        return resource_get(resource)
    except UnknownResource as exc:
        raise UnknownExportResource(resource) from exc


def export_format_clean(format: str) -> str:
    key = (format or "").strip().lower()
    if key not in FORMATS:
        raise UnknownExportFormat(format)
    return key


def export_columns_clean(*, resource: type[Resource], columns: list[str] | None) -> list[str]:
    """Field names in the chosen order; the defaults when empty; UnknownColumn names a bad one."""
    if not columns:
        return [f.name for f in resource.default_export_fields()]
    field_map = resource.field_map()
    cleaned: list[str] = []
    for name in columns:
        name = (name or "").strip()
        if not name:
            continue
        if name not in field_map:
            raise UnknownColumn(resource, name)
        if name not in cleaned:
            cleaned.append(name)
    return cleaned or [f.name for f in resource.default_export_fields()]


def export_permission_code(*, resource: type[Resource], format: str) -> str:
    return resource.export_pdf_permission() if format == "pdf" else resource.export_permission()


def export_permission_check(*, membership, resource, format: str) -> None:
    """PermissionDenied unless the member may export the resource (and as PDF, for PDF)."""
    resource = export_resource(resource)
    format = export_format_clean(format)
    if membership is None or not membership.has_perm(resource.export_permission()):
        raise PermissionDenied(f"You may not export {resource.label}.")
    if format == "pdf" and not membership.has_perm(resource.export_pdf_permission()):
        raise PermissionDenied(f"You may not export {resource.label} as PDF.")


def export_create(
    *,
    organization,
    user,
    resource: str,
    format: str,
    filters: dict | None = None,
    columns: list[str] | None = None,
    options: dict | None = None,
    template: DataTemplate | None = None,
) -> DataJob:
    """Validate an export and record it as a pending job (``export_start`` queues it).

    A template fills in whatever is not given explicitly. Raises FerryError naming the unknown
    resource, format or column, and InvalidFilter naming the filter.
    """
    if template is not None:
        if template.organization_id != organization.pk:
            raise FerryError("That export template belongs to another organization.")
        mapping = template.mapping or {}
        resource = resource or template.resource
        format = format or mapping.get("format") or "xlsx"
        filters = filters if filters is not None else mapping.get("filters") or {}
        columns = columns or mapping.get("columns") or []
        options = options if options is not None else template.options or {}
    res = export_resource(resource)
    fmt = export_format_clean(format)
    column_names = export_columns_clean(resource=res, columns=columns)
    cleaned_filters = filters_validate(resource=res, data=filters or {})
    if fmt == "pdf":
        count = export_queryset(resource=res, organization=organization, filters=cleaned_filters)
        limit = settings.FERRY["PDF_MAX_ROWS"]
        if count.count() > limit:
            raise PdfRowLimit(limit)
    params = {
        "filters": cleaned_filters,
        "columns": column_names,
        "options": _clean_options(options),
        "permission": export_permission_code(resource=res, format=fmt),
        "filters_text": export_filters_text(resource=res, filters=cleaned_filters),
    }
    if template is not None:
        params["template"] = template.pk
        params["template_name"] = template.name
    with transaction.atomic():
        job = job_create(
            organization=organization,
            user=user,
            job_type=DataJob.Type.EXPORT,
            target=res.name,
            format=fmt,
            params=params,
        )
        if template is not None:
            DataTemplate.objects.filter(pk=template.pk).update(last_used_at=timezone.now())
        audit_record(
            organization=organization,
            user=user,
            event_type=AuditEvent.Type.EXPORT,
            obj=job,
            object_repr=f"Export of {res.label} as {FORMATS[fmt]}",
            details={
                "resource": res.name,
                "format": fmt,
                "columns": column_names,
                "filters": cleaned_filters,
                "job": job.pk,
            },
        )
    return job


def _clean_options(options: dict | None) -> dict[str, Any]:
    """Only the writer options the builder offers; anything else is dropped."""
    options = options or {}
    out: dict[str, Any] = {}
    delimiter = options.get("delimiter")
    if delimiter:
        if delimiter in ("tab", "\\t"):
            delimiter = "\t"
        if len(delimiter) != 1:
            raise FerryError(f"The CSV delimiter must be one character, not '{delimiter}'.")
        out["delimiter"] = delimiter
    if options.get("bom") not in (None, "", False, "false", "0"):
        out["bom"] = True
    return out


def export_start(*, job: DataJob) -> DataJob:
    """Queue the job's task once the surrounding transaction commits."""
    from reports.exports.tasks import export_task  # the task module imports this one

    return job_queue(job=job, task=export_task)


def export_count(*, organization, resource: str, filters: dict) -> int:
    res = export_resource(resource)
    return export_queryset(resource=res, organization=organization, filters=filters).count()


def export_write(
    *,
    organization,
    resource: str | type[Resource],
    format: str,
    path,
    filters: dict | None = None,
    columns: list[str] | None = None,
    options: dict | None = None,
    progress: JobProgress | None = None,
) -> int:
    """Stream the filtered rows into a file at ``path``; returns the number of rows written.

    On any error the partial file is removed, so nothing half-written is left behind.
    """
    res = export_resource(resource)
    fmt = export_format_clean(format)
    fields = export_fields(
        resource=res, columns=export_columns_clean(resource=res, columns=columns)
    )
    queryset = export_queryset(resource=res, organization=organization, filters=filters)
    total = queryset.count()
    if fmt == "pdf" and total > settings.FERRY["PDF_MAX_ROWS"]:
        raise PdfRowLimit(settings.FERRY["PDF_MAX_ROWS"])
    if progress is not None:
        progress.set_total(total)
    writer = writer_for(fmt)(
        path,
        title=res.label,
        organization_name=organization.name,
        filters_text=export_filters_text(resource=res, filters=filters),
        options=_clean_options(options),
    )
    written = 0
    rows = export_rows(queryset=queryset, fields=fields, labels=fmt == "pdf")
    with writer:
        writer.section(res.label, [export_column(f) for f in fields])
        # Batches: the writer loops over a batch without a call per row from here, and progress
        # and cancellation are looked at between batches.
        while batch := list(islice(rows, PROGRESS_EVERY)):
            written += writer.rows(batch)
            if progress is not None:
                progress.update(processed=written, succeeded=written)
                progress.check_cancel()
    return written


def export_filename(*, resource: type[Resource], format: str) -> str:
    stamp = timezone.localtime(timezone.now()).strftime("%Y-%m-%d-%H%M")
    return f"{resource.name}-{stamp}.{writer_for(format).extension}"


def export_run(*, job: DataJob, progress: JobProgress) -> dict[str, Any]:
    """The task body: re-check permission, write the file, store it as the job's output."""
    res = export_resource(job.target)
    params = job.params or {}
    if job.user_id is not None:
        # The person may have lost the permission between asking and the worker starting.
        membership = Membership.objects.filter(
            organization_id=job.organization_id, user_id=job.user_id
        ).first()
        try:
            export_permission_check(membership=membership, resource=res, format=job.format)
        except PermissionDenied as exc:
            raise FerryError(str(exc)) from exc
    tmp = Path(tempfile.mkdtemp(prefix="ferry-export-"))
    try:
        filename = export_filename(resource=res, format=job.format)
        path = tmp / filename
        written = export_write(
            organization=job.organization,
            resource=res,
            format=job.format,
            path=path,
            filters=params.get("filters"),
            columns=params.get("columns"),
            options=params.get("options"),
            progress=progress,
        )
        progress.update(processed=written, succeeded=written, force=True)
        job_save_output(job=job, path_or_file=path, filename=filename)
        size = path.stat().st_size
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    field_map = res.field_map()
    # Shown as is on the job page: labels, not internal names.
    return {
        "rows": written,
        "records": res.label,
        "format": FORMATS[job.format],
        "columns": [field_map[c].label for c in params.get("columns", []) if c in field_map],
        "filters": params.get("filters_text") or ["none"],
        "size_bytes": size,
    }


class TemplateNameTaken(FerryError):
    def __init__(self, name: str):
        super().__init__(
            f"An export template named '{name}' already exists and is not yours to change. "
            "Choose another name.",
            code="template_name_taken",
        )


def export_template_can_change(*, membership, template: DataTemplate) -> bool:
    """Personal templates by their author; shared ones by template managers."""
    if membership is None:
        return False
    if membership.has_perm(MANAGE_TEMPLATES):
        return True
    return not template.is_shared and template.created_by_id == membership.user_id


def export_template_save(
    *,
    organization,
    membership,
    name: str,
    resource: str,
    format: str,
    filters: dict | None = None,
    columns: list[str] | None = None,
    options: dict | None = None,
    description: str = "",
    is_shared: bool = False,
) -> DataTemplate:
    """Save (or update one's own) export template after the same checks as an export."""
    res = export_resource(resource)
    fmt = export_format_clean(format)
    export_permission_check(membership=membership, resource=res, format=fmt)
    if is_shared and not membership.has_perm(MANAGE_TEMPLATES):
        raise PermissionDenied("Only template managers may share templates.")
    mapping = {
        "columns": export_columns_clean(resource=res, columns=columns),
        "filters": filters_validate(resource=res, data=filters or {}),
        "format": fmt,
    }
    name = name.strip()
    with transaction.atomic():
        template = (
            DataTemplate.objects.select_for_update()
            .filter(organization=organization, template_type=DataTemplate.Type.EXPORT, name=name)
            .first()
        )
        created = template is None
        if template is None:
            template = DataTemplate(
                organization=organization,
                template_type=DataTemplate.Type.EXPORT,
                name=name,
                created_by=membership.user,
            )
        elif not export_template_can_change(membership=membership, template=template):
            raise TemplateNameTaken(name)
        template.resource = res.name
        template.mapping = mapping
        template.options = _clean_options(options)
        template.description = description
        template.is_shared = is_shared
        template.is_active = True
        template.save()
        audit_record(
            organization=organization,
            user=membership.user,
            event_type=AuditEvent.Type.TEMPLATE,
            obj=template,
            details={"action": "created" if created else "updated", "type": "export"},
        )
    return template


def export_template_delete(*, membership, template: DataTemplate) -> None:
    if not export_template_can_change(membership=membership, template=template):
        raise PermissionDenied("You may not delete this template.")
    audit_record(
        organization=template.organization,
        user=membership.user,
        event_type=AuditEvent.Type.TEMPLATE,
        object_type=template._meta.label,
        object_id=str(template.pk),
        object_repr=template.name,
        details={"action": "deleted", "type": "export"},
    )
    template.delete()
