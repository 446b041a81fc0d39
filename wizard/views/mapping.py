"""Step 2, configure & map: how the file is read, its columns mapped, a template saved."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import organization_required
from jobs.errors import FerryError
from library.selectors import template_can_manage, template_get
from wizard import flow
from wizard.engine.params import ImportParams
from wizard.forms import MappingForm, ReadForm, SaveTemplateForm
from wizard.views.steps import _base, _draft, _editable_or_redirect, _hx_redirect


def _map_context(request, job, resource, *, form=None, read_form=None, template_form=None):
    info = flow.file_info(job)
    headers = list(info.get("headers") or [])
    params = ImportParams.from_job(job)
    mapping = params.mapping
    if form is None:
        initial = {f"col_{i}": mapping.get(h, "") for i, h in enumerate(headers)}
        form = MappingForm(
            initial=initial, headers=headers, resource=resource, options=params.options
        )
    if read_form is None:
        read_form = ReadForm(initial=_read_initial(info), file_info=info)
    if template_form is None:
        template = flow.wizard_template(job)
        template_form = SaveTemplateForm(
            initial={"name": "" if template else f"{resource.label} from {job.input_filename}"},
            can_share=template_can_manage(membership=request.membership),
        )
    reasons = flow.column_reasons(job)
    samples = info.get("sample_rows") or []
    columns = []
    for index, header in enumerate(headers):
        values = [row[index] for row in samples if index < len(row)]
        shown = [v for v in values if v not in (None, "")][:3]
        columns.append(
            {
                "index": index,
                "header": header,
                "samples": shown,
                "field": form.column_fields()[index],
                "reason": reasons.get(header, ""),
            }
        )
    options = params.options
    shown = set(mapping.values()) | {name for name, opt in options.items() if opt}
    mapped = [f for f in form.importable.values() if f.name in shown]
    return _base(
        request,
        "map",
        job,
        resource,
        info=info,
        form=form,
        read_form=read_form,
        template_form=template_form,
        columns=columns,
        missing=flow.missing_required(job),
        mapped_fields=[{"field": f, "options": form.option_fields(f.name)} for f in mapped],
        template=flow.wizard_template(job),
        proposed=flow.wizard_proposed_template(job),
    )


def _read_initial(info: dict) -> dict:
    return {
        "encoding": (info.get("encoding") or "").lower(),
        "delimiter": info.get("delimiter") or ",",
        "sheet": info.get("sheet") or "",
        "header_row": info.get("header_row") or 1,
    }


@require_http_methods(["GET", "POST"])
@organization_required
def map_step(request, job_id: int):
    job, resource = _draft(request, job_id)
    moved = _editable_or_redirect(request, job)
    if moved:
        return moved
    if request.method == "GET":
        return render(request, "wizard/map.html", _map_context(request, job, resource))
    action = request.POST.get("action", "continue")
    if action == "read":
        return _map_read(request, job, resource)
    if action in ("apply-template", "dismiss-template"):
        return _map_template_choice(request, job, resource, action)
    info = flow.file_info(job)
    form = MappingForm(
        request.POST,
        headers=list(info.get("headers") or []),
        resource=resource,
        options=ImportParams.from_job(job).options,
    )
    if form.is_valid():
        try:
            job = flow.wizard_save_mapping(
                job=job,
                mapping=form.mapping(),
                options=form.options(ImportParams.from_job(job).options),
            )
        except FerryError as exc:
            form.add_error(None, exc.message)
    if action == "autosave":
        context = _map_context(request, job, resource, form=form)
        context["oob"] = True
        return render(request, "wizard/map_status.html", context)
    if form.is_valid() and not form.non_field_errors():
        if flow.missing_required(job):
            messages.error(request, "Map the required fields (or give them a default) first.")
        else:
            try:
                flow.wizard_preview_start(job=job)
            except FerryError as exc:
                messages.error(request, exc.message)
            else:
                return _hx_redirect(request, reverse("wizard:preview", args=[job.pk]))
    context = _map_context(request, job, resource, form=form)
    return render(request, "wizard/map.html", context, status=400)


def _map_read(request, job, resource):
    info = flow.file_info(job)
    read_form = ReadForm(request.POST, file_info=info)
    if read_form.is_valid():
        try:
            job = flow.wizard_reinspect(job=job, read=read_form.read_params())
        except FerryError as exc:
            read_form.add_error(None, exc.message)
        else:
            read_form = None
    context = _map_context(request, job, resource, read_form=read_form)
    if read_form is None:
        context["notice"] = "The file was read again with your settings."
    status = 400 if read_form is not None else 200
    if request.htmx:
        return render(request, "wizard/map_body.html", context, status=status)
    return render(request, "wizard/map.html", context, status=status)


def _map_template_choice(request, job, resource, action):
    if action == "apply-template":
        template = template_get(
            organization=request.organization,
            membership=request.membership,
            pk=request.POST.get("template"),
        )
        if template.resource != job.target:
            raise Http404("Template not found.")
        try:
            flow.wizard_apply_template(job=job, template=template)
        except FerryError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Applied the template '{template.name}'.")
    else:
        flow.wizard_dismiss_template(job=job)
    return _hx_redirect(request, reverse("wizard:map", args=[job.pk]))


@require_POST
@organization_required
def save_template(request, job_id: int):
    job, resource = _draft(request, job_id)
    moved = _editable_or_redirect(request, job)
    if moved:
        return moved
    info = flow.file_info(job)
    form = MappingForm(
        request.POST,
        headers=list(info.get("headers") or []),
        resource=resource,
        options=ImportParams.from_job(job).options,
    )
    template_form = SaveTemplateForm(
        request.POST, can_share=template_can_manage(membership=request.membership)
    )
    saved = None
    if form.is_valid() and template_form.is_valid():
        try:
            job = flow.wizard_save_mapping(
                job=job,
                mapping=form.mapping(),
                options=form.options(ImportParams.from_job(job).options),
            )
            saved = flow.wizard_save_template(
                job=job,
                membership=request.membership,
                name=template_form.cleaned_data["name"],
                description=template_form.cleaned_data.get("description", ""),
                is_shared=template_form.cleaned_data.get("is_shared", False),
            )
        except FerryError as exc:
            template_form.add_error("name", exc.message)
    elif not form.is_valid():
        template_form.add_error(None, "Fix the mapping above before saving it as a template.")
    context = _map_context(request, job, resource, template_form=template_form)
    context["saved_template"] = saved
    status = 200 if saved else 400
    if request.htmx:
        return render(request, "wizard/map_template.html", context, status=status)
    if saved:
        messages.success(request, f"Saved the template '{saved.name}'.")
        return redirect("wizard:map", job.pk)
    return render(request, "wizard/map.html", context, status=status)
