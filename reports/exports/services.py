"""The export builder's own rules: columns, writer options and saved export templates.

Creating, queueing and running an export is the exporters' one path (``reports.exporters``);
the resource export's kind is ``reports.exports.exporter``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts.permissions import MANAGE_TEMPLATES
from business.audit import audit_record
from business.filters import filters_validate
from business.models import AuditEvent
from business.resources import Resource, UnknownResource, resource_get
from business.writers import FORMATS
from jobs.errors import FerryError
from library.models import DataTemplate
from library.selectors import template_can_change


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


def export_options_clean(options: dict | None) -> dict[str, Any]:
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
    for flag in ("bom", "choice_codes"):
        if options.get(flag) not in (None, "", False, "false", "0"):
            out[flag] = True
    return out


class TemplateNameTaken(FerryError):
    def __init__(self, name: str):
        super().__init__(
            f"An export template named '{name}' already exists and is not yours to change. "
            "Choose another name.",
            code="template_name_taken",
        )


def export_template_can_change(*, membership, template: DataTemplate) -> bool:
    """Personal templates by their author; shared ones by template managers."""
    return template_can_change(template=template, membership=membership)


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
    from reports.exports.exporter import resource_exporter  # it imports this module

    res = export_resource(resource)
    exporter = resource_exporter(res)
    fmt = exporter.format_clean(format)
    exporter.permission_check(membership=membership, format=fmt)
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
        template.options = export_options_clean(options)
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
