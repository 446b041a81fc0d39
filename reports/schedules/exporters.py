"""What a schedule runs: any exporter of the registry (reports.exporters), by identifier.

Two shapes of identifier: an exporter's own ("sales", "contacts") with its parameters, or
"template:<id>" for a saved export template, whose resource, filters and columns are read when
the run starts (a template changed or deleted since is what runs, or a clear failure). The
schedule machinery reaches the exporters only through here and the registry's services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobs.errors import FerryError
from reports.exporters.base import (
    FORMAT_LABELS,
    ExportParamsInvalid,
    ExportPermissionDenied,
    NullProgress,
)
from reports.exporters.registry import exporter_get as registry_get
from reports.exporters.registry import exporters_for as registry_for
from reports.exporters.services import export_audit, export_render

# Every format an exporter may have; each exporter says which of them it makes (``formats``).
FORMATS = ("csv", "xlsx", "json", "pdf", "zip")
TEMPLATE_PREFIX = "template:"


class UnknownScheduleExporter(FerryError):
    def __init__(self, identifier: str, detail: str = ""):
        super().__init__(
            detail
            or f"Unknown exporter '{identifier}'. Choose a report, a record export or a saved "
            "export template.",
            code="unknown_exporter",
        )


class ExporterDenied(FerryError):
    """The owner may not use this exporter (or one of the formats)."""

    def __init__(self, message: str):
        super().__init__(message, code="permission_denied")


class ExporterParamsInvalid(FerryError):
    def __init__(self, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message, code="invalid_params")
        self.errors = errors or {}


@dataclass(frozen=True)
class Target:
    """A schedule's exporter resolved: the registry class, and the template when there is one."""

    identifier: str
    name: str
    exporter: Any
    template: Any = None

    @property
    def kind(self) -> str:
        return self.exporter.kind

    @property
    def job_type(self) -> str:
        return self.exporter.job_type

    @property
    def period_fields(self) -> tuple[str, ...]:
        """The parameter names a relative period fills in ("date_from"/"date_to" or "as_of")."""
        form_class = getattr(self.exporter, "form_class", None)
        names = set(getattr(form_class, "base_fields", {}) or {})
        if {"date_from", "date_to"} <= names:
            return ("date_from", "date_to")
        if "as_of" in names:
            return ("as_of",)
        return ()


def _template(*, organization, pk: str):
    from library.models import DataTemplate

    template = (
        DataTemplate.objects.filter(
            organization=organization, template_type=DataTemplate.Type.EXPORT, is_active=True
        )
        .filter(pk=int(pk) if pk.isdigit() else -1)
        .first()
    )
    if template is None:
        raise UnknownScheduleExporter(
            f"{TEMPLATE_PREFIX}{pk}",
            f"The saved export template #{pk} no longer exists in this organization.",
        )
    return template


def target_get(*, organization, identifier: str) -> Target:
    identifier = (identifier or "").strip()
    if identifier.startswith(TEMPLATE_PREFIX):
        template = _template(organization=organization, pk=identifier[len(TEMPLATE_PREFIX) :])
        exporter = _registry(template.resource)
        return Target(identifier, f"{template.name} (saved {exporter.name})", exporter, template)
    exporter = _registry(identifier)
    return Target(identifier, exporter.name, exporter)


def _registry(identifier: str):
    try:
        return registry_get(identifier)
    except FerryError as exc:
        raise UnknownScheduleExporter(identifier) from exc


def targets_for(*, membership) -> list[Target]:
    """Everything the member may schedule: the exporters they may run, then saved templates."""
    from library.models import DataTemplate

    out = [Target(e.identifier, e.name, e) for e in registry_for(membership)]
    allowed = {t.identifier: t.exporter for t in out}
    templates = DataTemplate.objects.filter(
        organization=membership.organization,
        template_type=DataTemplate.Type.EXPORT,
        is_active=True,
    ).order_by("name")
    for template in templates:
        exporter = allowed.get(template.resource)
        if exporter is not None:
            out.append(
                Target(
                    f"{TEMPLATE_PREFIX}{template.pk}",
                    f"{template.name} (saved {exporter.name})",
                    exporter,
                    template,
                )
            )
    return out


def target_formats_check(*, target: Target, formats: list[str]) -> None:
    """ExporterParamsInvalid naming the formats this exporter does not make (a report has no
    ZIP; a document has no spreadsheet)."""
    wrong = [f for f in formats if f not in target.exporter.formats]
    if wrong:
        raise ExporterParamsInvalid(
            f"'{target.name}' is not made as {', '.join(format_label(f) for f in wrong)}. "
            f"Choose from: {', '.join(format_label(f) for f in target.exporter.formats)}.",
            {"formats": ["Not made in this format."]},
        )


def target_check(*, membership, target: Target, formats: list[str]) -> None:
    """ExporterDenied unless the member may run the exporter in every format."""
    if membership is None:
        raise ExporterDenied("The owner is not a member of the organization (any more).")
    for fmt in formats:
        try:
            target.exporter.permission_check(membership=membership, format=fmt)
        except ExportPermissionDenied as exc:
            raise ExporterDenied(exc.message) from exc


def _with_template(target: Target, *, format: str, params: dict) -> dict:
    if target.template is None:
        return params
    _format, params = target.exporter.template_apply(
        template=target.template, format=format, params=params
    )
    return params


def target_clean_params(*, organization, target: Target, params: dict | None) -> dict:
    """The parameters as the exporter's own validation keeps them; ExporterParamsInvalid names
    the field (a parameter that no longer validates ends a run with this message)."""
    params = _with_template(target, format="", params=dict(params or {}))
    try:
        cleaned = target.exporter.params_clean(organization=organization, params=params)
    except ExportParamsInvalid as exc:
        raise ExporterParamsInvalid(exc.message, exc.errors) from exc
    except FerryError as exc:
        raise ExporterParamsInvalid(exc.message) from exc
    return {} if target.template is not None else cleaned.params


def target_render(
    *, organization, user, target: Target, params: dict, format: str, path, progress=None
) -> dict[str, Any]:
    """Write one file and audit it; ``{"rows": n, "key_figures": [[label, text], ...]}``."""
    params = _with_template(target, format=format, params=dict(params))
    result = export_render(
        organization=organization,
        exporter=target.exporter,
        format=format,
        params=params,
        path=path,
        progress=progress or NullProgress(),
    )
    rows = int(result.get("rows", 0) or 0)
    export_audit(
        organization=organization,
        user=user,
        exporter=target.exporter,
        format=format,
        params=params,
        rows=rows,
        via="schedule",
    )
    figures = result.get("summary_items") or [[target.name, f"{rows:,} rows"]]
    return {"rows": rows, "key_figures": figures}


def format_label(fmt: str) -> str:
    return FORMAT_LABELS.get(fmt, fmt.upper())
