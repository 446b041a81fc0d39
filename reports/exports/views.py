"""The export builder: one page; htmx swaps the builder (on a resource change) and the preview.

Filter inputs carry the prefix ``f-`` so a resource field called e.g. ``format`` or ``name``
cannot collide with the builder's own controls. A link may preselect filters without the
prefix: ``/export/?resource=contacts&status=active``.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import organization_required
from business.filters import (
    InvalidFilter,
    filter_fields_split,
    filter_names,
    filter_suggestions,
    filterset_for,
)
from business.resources import Resource, resources_for
from business.writers import FORMATS
from jobs.errors import FerryError
from library.models import DataTemplate
from library.schema import template_problem, template_usable_check
from library.selectors import template_get
from reports.exporters import export_create, export_start
from reports.exports.exporter import resource_exporter
from reports.exports.forms import ExportForm, ExportTemplateForm
from reports.exports.selectors import export_preview, export_templates_for
from reports.exports.services import (
    export_columns_clean,
    export_template_can_change,
    export_template_delete,
    export_template_save,
)

FILTER_PREFIX = "f"
OWN_PARAMS = frozenset(
    {"resource", "template", "format", "columns", "delimiter", "bom", "choice_codes"}
)


def _allowed_resources(request) -> list[type[Resource]]:
    return resources_for(request.membership, "export")


def _formats_for(request, resource: type[Resource] | None) -> list[str]:
    if resource is None:
        return [f for f in FORMATS if f != "pdf"]
    return resource_exporter(resource).formats_for(request.membership)


def _pick_resource(resources, name: str | None) -> type[Resource] | None:
    by_name = {r.name: r for r in resources}
    if name and name in by_name:
        return by_name[name]
    if name:
        # Not exportable by this person (or no such resource): never a silent fallback.
        raise PermissionDenied(f"You may not export '{name}'.")
    return resources[0] if resources else None


def _filters_from(data: QueryDict, resource: type[Resource], *, unprefixed: bool) -> dict:
    """Filter name → values from the builder's ``f-`` inputs (or plain names from a link)."""
    out: dict[str, list[str]] = {}
    for name in sorted(filter_names(resource)):
        values = [v for v in data.getlist(f"{FILTER_PREFIX}-{name}") if v.strip()]
        if not values and unprefixed and name not in OWN_PARAMS:
            values = [v for v in data.getlist(name) if v.strip()]
        if values:
            out[name] = values
    return out


def _filter_form(resource: type[Resource], filters: dict):
    data = QueryDict(mutable=True)
    for name, values in filters.items():
        data.setlist(f"{FILTER_PREFIX}-{name}", values)
    filterset = filterset_for(resource)(
        data=data, queryset=resource.model._default_manager.none(), prefix=FILTER_PREFIX
    )
    form = filterset.form
    form.is_valid()  # errors are shown beside the fields
    return form


def _filter_context(request, resource: type[Resource] | None, filters: dict) -> dict:
    """The filter form laid out for the builder: a range's two ends side by side, references
    as searchable selects over the organization's records."""
    if resource is None:
        return {"filter_form": None}
    form = _filter_form(resource, filters)
    suggestions = filter_suggestions(form, resource=resource, organization=request.organization)
    primary, secondary = filter_fields_split(form, resource)
    secondary_names = {
        b.name
        for item in secondary
        for b in (item.get("field"), item.get("low"), item.get("high"))
        if b
    }
    return {
        "filter_form": form,
        "filter_primary": primary,
        "filter_secondary": secondary,
        # "More filters" opens by itself when one of them is in use.
        "filters_secondary_used": any(n in filters for n in secondary_names),
        "suggestions": suggestions,
    }


def _ordered_columns(resource: type[Resource], chosen: list[str]) -> list[dict]:
    """Chosen columns first in their order, then the rest (unticked) in declaration order."""
    field_map = resource.field_map()
    ordered = [field_map[n] for n in chosen if n in field_map]
    ordered += [f for f in resource.fields if f.name not in chosen]
    return [{"field": f, "checked": f.name in chosen} for f in ordered]


def _builder_context(
    request, *, resource, resources, filters, columns, format, options=None, form=None
) -> dict:
    formats = _formats_for(request, resource)
    if format not in formats:
        format = "xlsx"
    if resource is not None:
        try:
            columns = export_columns_clean(resource=resource, columns=columns)
        except FerryError:
            columns = export_columns_clean(resource=resource, columns=None)
    options = options or {}
    if form is None:
        form = ExportForm(
            resources=resources,
            resource=resource,
            formats=formats,
            initial={
                "resource": resource.name if resource else "",
                "format": format,
                "columns": columns,
                "delimiter": options.get("delimiter", ","),
                "bom": bool(options.get("bom")),
                "choice_codes": bool(options.get("choice_codes")),
            },
        )
    templates = export_templates_for(
        organization=request.organization, user=request.user, resources=resources
    )
    labels = {r.name: r.label for r in resources}
    return {
        "form": form,
        "resource": resource,
        "resources": resources,
        **_filter_context(request, resource, filters),
        "columns": _ordered_columns(resource, columns) if resource else [],
        "format": format,
        "pdf_allowed": "pdf" in formats,
        "template_form": ExportTemplateForm(),
        "can_share": request.membership.has_perm("can_manage_templates"),
        "templates": [
            {
                "template": t,
                "resource_label": labels.get(t.resource, t.resource),
                "problem": template_problem(t),
                "format_label": ""
                if template_problem(t)
                else FORMATS.get(t.mapping.get("format", ""), ""),
                "can_change": export_template_can_change(membership=request.membership, template=t),
            }
            for t in templates
        ],
    }


@organization_required
def export_builder(request):
    resources = _allowed_resources(request)
    if request.method == "POST":
        return _export_submit(request, resources)
    template = None
    if request.GET.get("template"):
        template = _template_or_404(request, request.GET["template"])
        problem = template_problem(template)
        if problem:
            # A template stored in an odd shape is not applied: the builder opens empty.
            messages.warning(
                request,
                f"The template '{template.name}' needs attention and was not loaded: {problem}",
            )
            template = None
    name = template.resource if template else request.GET.get("resource")
    resource = _pick_resource(resources, name)
    if template is not None:
        mapping = template.mapping or {}
        filters = {
            k: v if isinstance(v, list) else [v] for k, v in mapping.get("filters", {}).items()
        }
        columns = mapping.get("columns") or []
        format = mapping.get("format") or "xlsx"
        options = template.options or {}
    else:
        filters = _filters_from(request.GET, resource, unprefixed=True) if resource else {}
        columns = request.GET.getlist("columns")
        format = request.GET.get("format", "xlsx")
        options = {}
    context = _builder_context(
        request,
        resource=resource,
        resources=resources,
        filters=filters,
        columns=columns,
        format=format,
        options=options,
    )
    context["loaded_template"] = template
    if request.htmx and request.htmx.target == "builder":
        return render(request, "reports/export_builder.html", context)
    return render(request, "reports/export.html", context)


def _export_submit(request, resources):
    resource = _pick_resource(resources, request.POST.get("resource"))
    if resource is None:
        raise PermissionDenied("You may not export any records.")
    formats = _formats_for(request, resource)
    form = ExportForm(request.POST, resources=resources, resource=resource, formats=formats)
    filters = _filters_from(request.POST, resource, unprefixed=False)
    if not form.is_valid():
        if request.POST.get("format") == "pdf" and "pdf" not in formats:
            raise PermissionDenied(f"You may not export {resource.label} as PDF.")
        return _builder_error(request, resource, resources, filters, form)
    format = form.cleaned_data["format"]
    try:
        # A permission the person lacks is a 403 (ExportPermissionDenied is no FerryError).
        job = export_create(
            organization=request.organization,
            user=request.user,
            exporter=resource_exporter(resource),
            format=format,
            params={
                "filters": filters,
                "columns": form.cleaned_data["columns"],
                "options": form.options(),
            },
        )
    except FerryError as exc:
        messages.error(request, exc.message)
        return _builder_error(request, resource, resources, filters, form)
    export_start(job=job)
    messages.success(request, f"Export of {resource.label} started.")
    return redirect("jobs:detail", pk=job.pk)


def _builder_error(request, resource, resources, filters, form, status=400):
    context = _builder_context(
        request,
        resource=resource,
        resources=resources,
        filters=filters,
        columns=request.POST.getlist("columns"),
        format=request.POST.get("format", "xlsx"),
        form=form,
    )
    return render(request, "reports/export.html", context, status=status)


@require_GET
@organization_required
def export_preview_view(request):
    resources = _allowed_resources(request)
    resource = _pick_resource(resources, request.GET.get("resource"))
    context: dict = {"resource": resource}
    if resource is not None:
        filters = _filters_from(request.GET, resource, unprefixed=False)
        try:
            columns = export_columns_clean(
                resource=resource, columns=request.GET.getlist("columns")
            )
            field_map = resource.field_map()
            context["preview"] = export_preview(
                resource=resource,
                organization=request.organization,
                filters=filters,
                fields=[field_map[c] for c in columns],
            )
        except InvalidFilter as exc:
            context["error"] = exc.message
        except FerryError as exc:
            context["error"] = exc.message
        from django.conf import settings

        context["pdf_limit"] = settings.FERRY["PDF_MAX_ROWS"]
        context["pdf_chosen"] = request.GET.get("format") == "pdf"
    return render(request, "reports/export_preview.html", context)


@require_POST
@organization_required
def export_template_save_view(request):
    resources = _allowed_resources(request)
    resource = _pick_resource(resources, request.POST.get("resource"))
    if resource is None:
        raise PermissionDenied("You may not export any records.")
    template_form = ExportTemplateForm(request.POST)
    form = ExportForm(
        request.POST,
        resources=resources,
        resource=resource,
        formats=_formats_for(request, resource),
    )
    filters = _filters_from(request.POST, resource, unprefixed=False)
    if not (template_form.is_valid() and form.is_valid()):
        errors = [e for f in (template_form, form) for errs in f.errors.values() for e in errs]
        messages.error(request, "The template was not saved: " + " ".join(errors))
        return _builder_error(request, resource, resources, filters, form)
    try:
        template = export_template_save(
            organization=request.organization,
            membership=request.membership,
            name=template_form.cleaned_data["template_name"],
            description=template_form.cleaned_data["description"],
            is_shared=template_form.cleaned_data["is_shared"],
            resource=resource.name,
            format=form.cleaned_data["format"],
            filters=filters,
            columns=form.cleaned_data["columns"],
            options=form.options(),
        )
    except FerryError as exc:
        messages.error(request, exc.message)
        return _builder_error(request, resource, resources, filters, form)
    messages.success(request, f"Saved the export template '{template.name}'.")
    return redirect(f"{reverse('reports:export')}?template={template.pk}")


def _template_or_404(request, pk: int) -> DataTemplate:
    # Another member's personal template is as invisible as another organization's.
    return template_get(
        organization=request.organization,
        membership=request.membership,
        pk=pk,
        template_type=DataTemplate.Type.EXPORT,
    )


@require_POST
@organization_required
def export_template_run(request, pk: int):
    template = _template_or_404(request, pk)
    try:
        template_usable_check(template)
        format = template.mapping.get("format", "xlsx")
        # A permission the person lacks is a 403 (ExportPermissionDenied is no FerryError).
        job = export_create(
            organization=request.organization,
            user=request.user,
            exporter=template.resource,
            format=format,
            template=template,
        )
    except FerryError as exc:
        messages.error(request, f"The template '{template.name}' could not run: {exc.message}")
        return redirect(f"{reverse('reports:export')}?template={template.pk}")
    export_start(job=job)
    messages.success(request, f"Export '{template.name}' started.")
    return redirect("jobs:detail", pk=job.pk)


@require_POST
@organization_required
def export_template_delete_view(request, pk: int):
    template = _template_or_404(request, pk)
    name = template.name
    export_template_delete(membership=request.membership, template=template)
    messages.success(request, f"Deleted the export template '{name}'.")
    return redirect("reports:export")
