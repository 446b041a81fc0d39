"""Which saved templates a member sees, and what is wrong with a stored one.

Two questions, each answered here once:

- *May open* (``templates_visible``): the library page, the API and direct links. Template
  managers curate the whole organization's templates, so they see everyone's; other members
  see the shared templates and their own.
- *Offered to use* (``templates_offered``): the pickers of the import wizard and the export
  builder and the wizard's automatic match. Only active templates, and only shared or one's
  own — even for a manager, a colleague's personal template is not offered for their files.

Another organization's template is never in either (a 404 wherever it is asked for).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.permissions import MANAGE_TEMPLATES
from business.filters import filter_names
from business.resources import UnknownResource, resource_get
from library.models import DataTemplate
from library.schema import template_problem


def template_can_manage(*, membership) -> bool:
    """Template managers curate shared templates and may tidy anyone's."""
    return membership is not None and membership.has_perm(MANAGE_TEMPLATES)


def templates_visible(
    *,
    organization,
    membership,
    search: str = "",
    template_type: str = "",
    resource: str = "",
    active_only: bool = False,
) -> QuerySet[DataTemplate]:
    """Templates a member may open: shared ones, their own, and for managers all of them."""
    qs = DataTemplate.objects.filter(organization=organization).select_related("created_by")
    if membership is None:
        return qs.none()
    if not template_can_manage(membership=membership):
        qs = qs.filter(Q(is_shared=True) | Q(created_by=membership.user_id))
    if search:
        qs = qs.filter(
            Q(name__icontains=search)
            | Q(description__icontains=search)
            | Q(resource__icontains=search)
        )
    if template_type:
        qs = qs.filter(template_type=template_type)
    if resource:
        qs = qs.filter(resource=resource)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("name")


def templates_offered(
    *, organization, user, template_type: str, resources: Iterable[str] | None = None
) -> QuerySet[DataTemplate]:
    """Active templates of one type a person may apply: the shared ones and their own."""
    qs = DataTemplate.objects.filter(
        organization=organization, template_type=template_type, is_active=True
    ).filter(Q(is_shared=True) | Q(created_by=user))
    if resources is not None:
        qs = qs.filter(resource__in=list(resources))
    return qs.select_related("created_by").order_by("name")


def template_get(*, organization, membership, pk, template_type: str = "") -> DataTemplate:
    """One template the member may open, or 404 (another organization's, someone's private one,
    or not of the type asked for)."""
    qs = templates_visible(
        organization=organization, membership=membership, template_type=template_type
    )
    try:
        return qs.get(pk=pk)
    except (DataTemplate.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Template not found.") from exc


def template_can_change(*, template: DataTemplate, membership) -> bool:
    """Personal templates by their author; shared ones (and anyone's) by template managers."""
    if membership is None:
        return False
    if template_can_manage(membership=membership):
        return True
    return not template.is_shared and template.created_by_id == membership.user_id


def _template_fields(template: DataTemplate) -> set[str]:
    mapping = template.mapping if isinstance(template.mapping, dict) else {}
    if template.template_type == DataTemplate.Type.EXPORT:
        columns = mapping.get("columns")
        filters = mapping.get("filters")
        names = set(columns) if isinstance(columns, list) else set()
        names |= set(filters) if isinstance(filters, dict) else set()
    else:
        names = {field for field in mapping.values() if field}
    # An import template's options and rules are per field; an export template's options are
    # the writer's (delimiter, byte-order mark), not fields.
    extras = (
        (template.rules,)
        if template.template_type == DataTemplate.Type.EXPORT
        else (
            template.options,
            template.rules,
        )
    )
    for extra in extras:
        if isinstance(extra, dict):
            names |= set(extra)
    return {str(name) for name in names if isinstance(name, str)}


def template_stale_fields(template: DataTemplate) -> list[str]:
    """Fields the template refers to that the resource no longer has (sorted).

    A template whose stored shape is wrong has no reliable field list: its problem is told
    by ``library.schema.template_problem`` instead.
    """
    if template_problem(template):
        return []
    names = _template_fields(template)
    try:
        resource = resource_get(template.resource)
    except UnknownResource:
        return sorted(names) or [template.resource]
    if template.template_type == DataTemplate.Type.EXPORT:
        # Filters are named after their field with a suffix (order_date_from, total_min) or
        # are the free-text search; older ones may carry lookups such as "created_at__gte".
        known = {f.name for f in resource.fields} | filter_names(resource)
        return sorted(n for n in names if n.split("__", 1)[0] not in known)
    known = {f.name for f in resource.importable_fields()}
    return sorted(n for n in names if n not in known)


def template_use_url(template: DataTemplate) -> str:
    """Where "use" leads: the import wizard, or the export builder for export templates."""
    from django.urls import reverse

    if template.template_type == DataTemplate.Type.EXPORT:
        return f"/export/?template={template.pk}"
    return f"{reverse('wizard:start')}?resource={template.resource}&template={template.pk}"
