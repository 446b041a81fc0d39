"""The records pages: what is in each business table of the current organization."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from accounts.decorators import organization_required
from business.filters import (
    InvalidFilter,
    filter_fields_split,
    filters_active,
    filterset_bind,
)
from business.resources import UnknownResource, resource_get
from business.selectors import records_browsable, records_filtered, records_overview
from business.tables import PER_PAGE_CHOICES, per_page_from, table_build

# Query parameters the page itself uses; everything else in the query string is a filter.
PAGE_PARAMS = ("sort", "page", "per_page")


@organization_required
def index(request):
    rows = records_overview(organization=request.organization, membership=request.membership)
    return render(request, "business/index.html", {"rows": rows})


@organization_required
def records_list(request, resource: str):
    try:
        res = resource_get(resource)
    except UnknownResource as exc:
        raise Http404(str(exc)) from exc
    if not records_browsable(res, request.membership):
        raise PermissionDenied("Only members who may view the audit trail can browse it.")

    error = None
    try:
        qs = records_filtered(
            resource=res, organization=request.organization, data=request.GET, ignore=PAGE_PARAMS
        )
    except InvalidFilter as exc:
        error = exc.message
        qs = res.queryset(request.organization).none()

    per_page = per_page_from(request.GET.get("per_page"))
    table = table_build(resource=res, queryset=qs, request=request, per_page=per_page)
    filter_params = [
        (key, value)
        for key, values in request.GET.lists()
        if key not in PAGE_PARAMS
        for value in values
        if value != ""
    ]
    filterset = filterset_bind(
        resource=res, organization=request.organization, data=request.GET, ignore=PAGE_PARAMS
    )
    primary, secondary = filter_fields_split(filterset.form, res)
    context = {
        "primary_fields": primary,
        "secondary_fields": secondary,
        "secondary_active": sum(
            1
            for item in secondary
            for bound in (item.get("field"), item.get("low"), item.get("high"))
            if bound is not None and request.GET.get(bound.name)
        ),
        "resource": res,
        "table": table,
        "error": error,
        "filterset": filterset,
        "active_filters": []
        if error
        else filters_active(resource=res, data=request.GET, ignore=PAGE_PARAMS),
        "per_page": per_page,
        "per_page_choices": PER_PAGE_CHOICES,
        "sort": request.GET.get("sort", ""),
        "export_url": "/export/?" + urlencode([("resource", res.name), *filter_params]),
        "import_url": "/import/?" + urlencode([("resource", res.name)]),
        "clear_url": reverse("business:list", args=[res.name]),
        "can_export": request.membership.has_perm(res.export_permission()),
        "can_import": res.importable and request.membership.has_perm(res.import_permission()),
    }
    if request.htmx and request.htmx.target == "records-results":
        return render(request, "business/records_list_results.html", context)
    return render(request, "business/records_list.html", context)
