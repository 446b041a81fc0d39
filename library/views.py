"""The template library: list, search, edit (with the per-field settings' partials), duplicate,
(de)activate, delete, use."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import organization_required
from library.fields import DATE_FORMATS, FieldSettings
from library.forms import TemplateForm, TemplateSearchForm, template_field_cards
from library.schema import template_problem
from library.selectors import (
    template_can_change,
    template_can_manage,
    template_get,
    template_stale_fields,
    template_use_url,
    templates_visible,
)
from library.services import (
    TemplateError,
    TemplatePermissionError,
    template_change_check,
    template_delete,
    template_duplicate,
    template_set_active,
    template_update,
)

PAGE_SIZE = 25


def _get(request, pk):
    return template_get(organization=request.organization, membership=request.membership, pk=pk)


def _require_edit(request, template) -> None:
    try:
        template_change_check(template=template, membership=request.membership)
    except TemplatePermissionError as exc:
        raise PermissionDenied(exc.message) from exc


@organization_required
def library(request):
    form = TemplateSearchForm(request.GET or None)
    search = template_type = ""
    if form.is_valid():
        search = form.cleaned_data["q"].strip()
        template_type = form.cleaned_data["type"]
    qs = templates_visible(
        organization=request.organization,
        membership=request.membership,
        search=search,
        template_type=template_type,
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "template": t,
            "problem": template_problem(t),
            "stale": template_stale_fields(t),
            "can_edit": template_can_change(template=t, membership=request.membership),
            "use_url": template_use_url(t),
        }
        for t in page.object_list
    ]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "can_manage": template_can_manage(membership=request.membership),
        "query": request.GET.urlencode(),
    }
    if request.htmx and request.htmx.target == "template-list":
        return render(request, "library/library_table.html", context)
    return render(request, "library/library.html", context)


@require_http_methods(["GET", "POST"])
@organization_required
def template_edit(request, pk: int):
    template = _get(request, pk)
    can_edit = template_can_change(template=template, membership=request.membership)
    if request.method == "POST" and not can_edit:
        _require_edit(request, template)
    form = TemplateForm(
        request.POST if request.method == "POST" else None,
        instance=template,
        membership=request.membership,
        can_share=template_can_manage(membership=request.membership),
    )
    if request.method == "POST" and form.is_valid():
        try:
            template_update(template=template, membership=request.membership, **form.changes())
        except TemplateError as exc:
            form.add_error(form.field_for(exc.field), exc.message)
        else:
            messages.success(request, f"Template '{template.name}' saved.")
            return redirect("library:template_edit", pk=template.pk)
    context = {
        "template": template,
        "form": form,
        "can_edit": can_edit,
        "stale": template_stale_fields(template),
        "problem": template_problem(template),
        "use_url": template_use_url(template),
        "field_choices": _field_choices(template.resource),
        "date_formats": DATE_FORMATS,
    }
    return render(request, "library/template_edit.html", context)


def _field_choices(resource_name: str) -> list[tuple[str, str]]:
    from business.resources import UnknownResource, resource_get

    try:
        resource = resource_get(resource_name)
    except UnknownResource:
        return []
    return [(f.name, f.label) for f in resource.importable_fields()]


def _act(request, action, success: str):
    try:
        result = action()
    except TemplatePermissionError as exc:
        raise PermissionDenied(exc.message) from exc
    except TemplateError as exc:
        messages.error(request, exc.message)
        return None
    messages.success(request, success)
    return result or True


def _back(request, default: str = "library:templates"):
    target = request.POST.get("next") or ""
    if target.startswith("/import/templates/") and "//" not in target:
        return redirect(target)
    return redirect(default)


@require_POST
@organization_required
def template_duplicate_view(request, pk: int):
    template = _get(request, pk)
    copy = _act(
        request,
        lambda: template_duplicate(template=template, membership=request.membership),
        f"Copied '{template.name}'. The copy is yours to change.",
    )
    if copy is None:
        return _back(request)
    return redirect("library:template_edit", pk=copy.pk)


@require_POST
@organization_required
def template_toggle_view(request, pk: int):
    template = _get(request, pk)
    _require_edit(request, template)
    active = not template.is_active
    _act(
        request,
        lambda: template_set_active(
            template=template, membership=request.membership, active=active
        ),
        f"'{template.name}' is now {'active' if active else 'inactive'}.",
    )
    return _back(request)


@require_http_methods(["GET", "POST"])
@organization_required
def template_delete_view(request, pk: int):
    template = _get(request, pk)
    _require_edit(request, template)
    if request.method == "POST":
        name = template.name
        _act(
            request,
            lambda: template_delete(template=template, membership=request.membership),
            f"Deleted the template '{name}'.",
        )
        return redirect("library:templates")
    return render(request, "library/template_delete.html", {"template": template})


@organization_required
def template_use(request, pk: int):
    template = _get(request, pk)
    if not template.is_active:
        messages.error(request, f"'{template.name}' is inactive. Activate it before using it.")
        return redirect("library:templates")
    return redirect(template_use_url(template))


# --- partials of the edit page's field settings ----------------------------------------------


@require_GET
@organization_required
def template_value_map_row(request):
    """One more empty "value in file → value to import" row, or nothing (to remove a row)."""
    if request.GET.get("remove"):
        return HttpResponse("")
    return render(
        request,
        "library/template_edit_value_map_row.html",
        {"card": {"name": request.GET.get("field", "")}, "source": "", "target": ""},
    )


@require_POST
@organization_required
def template_field_check(request, pk: int):
    """The live check: which sample values pass the field's settings as typed (not saved)."""
    template = _get(request, pk)
    name = request.POST.get("field", "")
    card = next((c for c in template_field_cards(template) if c.name == name), None)
    if card is None:
        raise Http404("No such field.")
    card = FieldSettings.posted(request.POST, base=card)
    return render(
        request, "library/template_edit_check.html", {"card": card, "results": card.check()}
    )
