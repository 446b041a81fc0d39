"""Step 3, preview: the dry run's rows, a cell edited in place, references resolved."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig
from django_tables2.paginators import LazyPaginator

from accounts.decorators import organization_required
from jobs.errors import FerryError
from wizard import flow, preview_problems, services
from wizard.engine.params import ImportParams
from wizard.forms import CellEditForm, ReferenceForm
from wizard.preview_settings import preview_settings_context
from wizard.selectors import preview_counts, preview_rows, reference_choices
from wizard.tables import ImportRowTable, RowNumberPaginator
from wizard.views.steps import _base, _draft, _editable_or_redirect, _hx_redirect

PREVIEW_PAGE_SIZE = 25


def _preview_context(request, job, resource, preview):
    problems = request.GET.get("problems") == "1"
    column, kind = request.GET.get("column", ""), request.GET.get("kind", "")
    rows = preview_rows(job=job, problems_only=problems or bool(kind))
    rows = preview_problems.preview_rows_with(rows=rows, preview=preview, column=column, kind=kind)
    headers = list(flow.file_info(job).get("headers") or [])
    table = ImportRowTable(rows, headers=headers, job=job, resource=resource)
    paginate: dict = {"per_page": PREVIEW_PAGE_SIZE, "paginator_class": RowNumberPaginator}
    if problems or kind:
        # Counting the rows with problems means reading every stored row; page without it.
        paginate["paginator_class"] = LazyPaginator
    RequestConfig(request, paginate=paginate).configure(table)
    table.lazy = problems or bool(kind)
    counts = preview_counts(job=job, preview=preview)
    return _base(
        request,
        "preview",
        job,
        resource,
        preview=preview,
        table=table,
        problems=problems,
        counts=counts,
        stale=flow.preview_is_stale(job),
        missing=flow.missing_required(job),
        **preview_problems.preview_problems_context(
            job=job, preview=preview, resource=resource, counts=counts, column=column, kind=kind
        ),
        **preview_settings_context(job=job, preview=preview),
    )


@require_http_methods(["GET", "POST"])
@organization_required
def preview(request, job_id: int):
    job, resource = _draft(request, job_id)
    moved = _editable_or_redirect(request, job)
    if moved:
        return moved
    if request.method == "POST":
        if flow.missing_required(job):
            messages.error(request, "Map the required fields first.")
            return _hx_redirect(request, reverse("wizard:map", args=[job.pk]))
        try:
            flow.wizard_preview_start(job=job)
        except FerryError as exc:
            messages.error(request, exc.message)
        return _hx_redirect(request, reverse("wizard:preview", args=[job.pk]))
    child = flow.preview_job(job)
    context = _preview_context(request, job, resource, child)
    if request.htmx and request.htmx.target == "preview-table":
        return render(request, "wizard/preview_table.html", context)
    return render(request, "wizard/preview.html", context)


@require_GET
@organization_required
def preview_status(request, job_id: int):
    job, resource = _draft(request, job_id)
    child = flow.preview_job(job)
    if child is None or child.is_finished:
        # The page swaps in the finished preview by reloading itself once.
        response = HttpResponse(status=200)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "wizard/preview_progress.html", {"job": job, "preview": child})


@require_http_methods(["GET", "POST"])
@organization_required
def cell_edit(request, job_id: int, row_number: int):
    job, resource = _draft(request, job_id)
    moved = _editable_or_redirect(request, job)
    if moved:
        return moved
    row = _row(job, row_number)
    headers = list(flow.file_info(job).get("headers") or [])
    if request.method == "GET":
        column = request.GET.get("column", "")
        if column not in headers:
            raise Http404("Unknown column.")
        if request.GET.get("cancel"):
            return _render_row(request, job, resource, row, headers)
        form = CellEditForm(initial={"column": column, "value": row.effective_values.get(column)})
        return render(
            request,
            "wizard/preview_cell_form.html",
            {
                "job": job,
                "row": row,
                "column": column,
                "form": form,
                "errors": (row.errors or {}).get(column, []),
                "fix": preview_problems.cell_fix_options(job=job, resource=resource, column=column),
            },
        )
    form = CellEditForm(request.POST)
    if not form.is_valid() or form.cleaned_data["column"] not in headers:
        raise Http404("Unknown column.")
    column = form.cleaned_data["column"]
    try:
        row = services.import_row_edit(
            job=job, row_number=row.row_number, column=column, value=form.cleaned_data["value"]
        )
    except FerryError as exc:
        return render(
            request,
            "wizard/preview_cell_form.html",
            {"job": job, "row": row, "column": column, "form": form, "errors": [exc.message]},
            status=400,
        )
    return _render_row(request, job, resource, row, headers, counts=True)


def _row(job, row_number: int):
    from wizard.models import ImportRow

    try:
        return ImportRow.objects.get(job=job, row_number=row_number)
    except ImportRow.DoesNotExist as exc:
        raise Http404("Row not found.") from exc


def _render_row(request, job, resource, row, headers, *, counts: bool = False):
    table = ImportRowTable([row], headers=headers, job=job, resource=resource)
    # The swapped-in row takes the focus back, so keyboard users stay where they were.
    context = {"table": table, "row": table.rows[0], "job": job, "focus_row": True}
    if counts:
        context["counts"] = preview_counts(job=job, preview=flow.preview_job(job))
        context["oob_counts"] = True
    return render(request, "wizard/preview_row.html", context)


@require_POST
@organization_required
def references(request, job_id: int):
    """Decide what to do with unresolved references, then check the file again."""
    job, resource = _draft(request, job_id)
    moved = _editable_or_redirect(request, job)
    if moved:
        return moved
    form = ReferenceForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _hx_redirect(request, reverse("wizard:preview", args=[job.pk]))
    field, value, action = (form.cleaned_data[k] for k in ("field", "value", "action"))
    spec = resource.field_map().get(field)
    if spec is None or spec.ref is None:
        raise Http404("Unknown reference field.")
    params = ImportParams.from_job(job)
    create_missing, reference_map = params.create_missing, params.reference_map
    if action == "create":
        if not spec.ref.creatable:
            messages.error(request, f"Ferry cannot create {spec.label} records during an import.")
            return _hx_redirect(request, reverse("wizard:preview", args=[job.pk]))
        create_missing[field] = True
        note = f"Missing {spec.label.lower()} records will be created."
    elif action == "map":
        target = form.cleaned_data["target"]
        if target not in reference_choices(job=job, resource=resource, field=field, search=target):
            messages.error(request, f"There is no {spec.label.lower()} '{target}'.")
            return _hx_redirect(request, reverse("wizard:preview", args=[job.pk]))
        reference_map.setdefault(field, {})[value] = target
        note = f"'{value}' will use the existing {spec.label.lower()} '{target}'."
    elif value:
        reference_map.get(field, {}).pop(value, None)
        note = f"'{value}' is unknown again."
    else:
        create_missing.pop(field, None)
        note = f"Missing {spec.label.lower()} records will not be created."
    try:
        flow.wizard_configure(job=job, create_missing=create_missing, reference_map=reference_map)
        flow.wizard_preview_start(job=job)
    except FerryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, note + " The preview is being checked again.")
    return _hx_redirect(request, reverse("wizard:preview", args=[job.pk]))


@require_GET
@organization_required
def reference_options(request, job_id: int):
    """Existing keys of a referenced resource, for the "map to existing record" search."""
    job, resource = _draft(request, job_id)
    field = request.GET.get("field", "")
    spec = resource.field_map().get(field)
    if spec is None or spec.ref is None:
        raise Http404("Unknown reference field.")
    choices = reference_choices(
        job=job,
        resource=resource,
        field=field,
        # "value": the cell fix's search box, which posts its text under that name.
        search=request.GET.get("target") or request.GET.get("q") or request.GET.get("value", ""),
    )
    return render(
        request,
        "wizard/preview_reference_options.html",
        {"choices": choices, "list_id": request.GET.get("list", "")},
    )
