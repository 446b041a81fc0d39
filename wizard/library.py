"""The template library: saved mappings (DataTemplate) that people re-use.

Who may do what: members with ``can_manage_templates`` (admins) curate the organization's shared
templates and may tidy anyone's; everyone else creates personal templates and uses the shared
ones. Another organization's template is never reachable (404 in views).
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.permissions import MANAGE_TEMPLATES
from business.resources import UnknownResource, resource_get
from jobs.errors import FerryError
from wizard.mapping import template_is_stale
from wizard.models import DataTemplate


class TemplateError(FerryError):
    pass


class TemplatePermissionError(TemplateError):
    def __init__(self, message: str = "Only template managers can change shared templates."):
        super().__init__(message, code="permission")


def can_manage(membership) -> bool:
    return membership is not None and membership.has_perm(MANAGE_TEMPLATES)


def templates_for(
    *,
    organization,
    membership,
    search: str = "",
    template_type: str = "",
    resource: str = "",
    active_only: bool = False,
) -> QuerySet[DataTemplate]:
    """Templates a member may see: shared ones, their own, and for managers all of them."""
    qs = DataTemplate.objects.filter(organization=organization).select_related("created_by")
    if not can_manage(membership):
        qs = qs.filter(Q(is_shared=True) | Q(created_by=membership.user))
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


def template_get(*, organization, membership, pk) -> DataTemplate:
    """One visible template, or 404 (another organization's or someone's private one)."""
    try:
        return templates_for(organization=organization, membership=membership).get(pk=pk)
    except (DataTemplate.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Template not found.") from exc


def template_can_edit(*, template: DataTemplate, membership) -> bool:
    if can_manage(membership):
        return True
    return not template.is_shared and template.created_by_id == membership.user_id


def _require_edit(template: DataTemplate, membership) -> None:
    if not template_can_edit(template=template, membership=membership):
        if template.is_shared:
            raise TemplatePermissionError()
        raise TemplatePermissionError("Only the person who created this template can change it.")


def _unique_name(*, organization, template_type: str, name: str, exclude_pk=None) -> bool:
    qs = DataTemplate.objects.filter(
        organization=organization, template_type=template_type, name__iexact=name
    )
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return not qs.exists()


def _check_name(*, organization, template_type: str, name: str, exclude_pk=None) -> str:
    name = (name or "").strip()
    if not name:
        raise TemplateError("A template needs a name.")
    if not _unique_name(
        organization=organization, template_type=template_type, name=name, exclude_pk=exclude_pk
    ):
        raise TemplateError(f"A template named '{name}' already exists. Choose another name.")
    return name


def _check_resource(name: str) -> None:
    try:
        resource_get(name)
    except UnknownResource as exc:
        raise TemplateError(f"'{name}' is not something Ferry can import.") from exc


def _save(template: DataTemplate, **kwargs) -> DataTemplate:
    try:
        with transaction.atomic():
            template.save(**kwargs)
    except IntegrityError as exc:  # a concurrent save took the name
        raise TemplateError(f"A template named '{template.name}' already exists.") from exc
    return template


def template_create(
    *,
    organization,
    membership,
    name: str,
    resource: str,
    template_type: str = DataTemplate.Type.IMPORT,
    description: str = "",
    mapping: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    rules: dict[str, Any] | None = None,
    on_duplicate: str = DataTemplate.OnDuplicate.SKIP,
    mode: str = DataTemplate.Mode.SKIP_INVALID,
    is_shared: bool = False,
) -> DataTemplate:
    if is_shared and not can_manage(membership):
        raise TemplatePermissionError("Only template managers can share templates with everyone.")
    _check_resource(resource)
    name = _check_name(organization=organization, template_type=template_type, name=name)
    template = DataTemplate(
        organization=organization,
        created_by=membership.user,
        name=name,
        description=description or "",
        resource=resource,
        template_type=template_type,
        mapping=mapping or {},
        options=options or {},
        rules=rules or {},
        on_duplicate=on_duplicate,
        mode=mode,
        is_shared=is_shared,
    )
    return _save(template)


EDITABLE = (
    "name",
    "description",
    "resource",
    "mapping",
    "options",
    "rules",
    "on_duplicate",
    "mode",
    "is_active",
    "is_shared",
)


def template_update(*, template: DataTemplate, membership, **changes: Any) -> DataTemplate:
    _require_edit(template, membership)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    if changes.get("is_shared") and not template.is_shared and not can_manage(membership):
        raise TemplatePermissionError("Only template managers can share templates with everyone.")
    if "name" in changes:
        changes["name"] = _check_name(
            organization=template.organization_id,
            template_type=template.template_type,
            name=changes["name"],
            exclude_pk=template.pk,
        )
    if "resource" in changes:
        _check_resource(changes["resource"])
    for key, value in changes.items():
        setattr(template, key, value)
    return _save(template)


def template_rename(*, template: DataTemplate, membership, name: str) -> DataTemplate:
    return template_update(template=template, membership=membership, name=name)


def template_set_active(*, template: DataTemplate, membership, active: bool) -> DataTemplate:
    return template_update(template=template, membership=membership, is_active=active)


def template_delete(*, template: DataTemplate, membership) -> None:
    _require_edit(template, membership)
    template.delete()


def template_duplicate(*, template: DataTemplate, membership, name: str = "") -> DataTemplate:
    """A personal copy anyone who can see the template may make (e.g. to adapt a shared one)."""
    base = (name or f"{template.name} (copy)").strip()
    candidate, n = base, 2
    while not name and not _unique_name(
        organization=template.organization_id, template_type=template.template_type, name=candidate
    ):
        candidate, n = f"{base} {n}", n + 1
    return template_create(
        organization=template.organization,
        membership=membership,
        name=candidate,
        resource=template.resource,
        template_type=template.template_type,
        description=template.description,
        mapping=dict(template.mapping or {}),
        options=dict(template.options or {}),
        rules=dict(template.rules or {}),
        on_duplicate=template.on_duplicate,
        mode=template.mode,
        is_shared=False,
    )


def template_mark_used(*, template: DataTemplate) -> None:
    now = timezone.now()
    DataTemplate.objects.filter(pk=template.pk).update(last_used_at=now)
    template.last_used_at = now


def template_use_url(template: DataTemplate) -> str:
    """Where "use" leads: the import wizard, or the export builder for export templates."""
    from django.urls import reverse

    if template.template_type == DataTemplate.Type.EXPORT:
        return f"/export/?template={template.pk}"
    return f"{reverse('wizard:start')}?resource={template.resource}&template={template.pk}"


def template_stale_fields(template: DataTemplate) -> list[str]:
    return template_is_stale(template)
