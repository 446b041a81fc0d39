"""Changing saved templates: create, update, rename, (de)activate, duplicate, delete, mark used.

Every change goes through here — the library pages, the wizard's "save as template", the
export builder and the API — so the name check, the resource check, the shape check
(library/schema.py), who may change what (library.selectors.template_can_change) and the audit
event are the same whichever door a person came through.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from business.audit import audit_record
from business.models import AuditEvent
from business.resources import UnknownResource, resource_get
from jobs.errors import FerryError
from library.models import DataTemplate
from library.selectors import template_can_change, template_can_manage


class TemplateError(FerryError):
    """A template change refused for a reason the person can fix; ``field`` names the input."""

    def __init__(self, message: str, *, code: str = "template", field: str = ""):
        super().__init__(message, code=code)
        self.field = field


class TemplatePermissionError(TemplateError):
    def __init__(
        self, message: str = "Only template managers can change shared templates.", field=""
    ):
        super().__init__(message, code="permission", field=field)


def template_change_check(*, template: DataTemplate, membership) -> None:
    """TemplatePermissionError unless the member may change (or delete) the template."""
    if template_can_change(template=template, membership=membership):
        return
    if template.is_shared:
        raise TemplatePermissionError()
    raise TemplatePermissionError("Only the person who created this template can change it.")


def _share_check(*, membership) -> None:
    if not template_can_manage(membership=membership):
        raise TemplatePermissionError(
            "Only template managers can share a template.", field="is_shared"
        )


def template_name_free(*, organization, template_type: str, name: str, exclude_pk=None) -> bool:
    # Case-insensitive: "Weekly CRM" and "weekly crm" side by side in a picker confuse people.
    qs = DataTemplate.objects.filter(
        organization=organization, template_type=template_type, name__iexact=name
    )
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return not qs.exists()


def template_name_clean(*, organization, template_type: str, name: str, exclude_pk=None) -> str:
    name = (name or "").strip()
    if not name:
        raise TemplateError("A template needs a name.", code="name", field="name")
    if len(name) > 200:
        raise TemplateError("Keep the name under 200 characters.", code="name", field="name")
    if not template_name_free(
        organization=organization, template_type=template_type, name=name, exclude_pk=exclude_pk
    ):
        raise TemplateError(
            f"A template named '{name}' already exists. Choose another name.",
            code="name",
            field="name",
        )
    return name


def _resource_check(name: str) -> None:
    try:
        resource_get(name)
    except UnknownResource as exc:
        raise TemplateError(
            f"'{name}' is not something Ferry can import or export.",
            code="resource",
            field="resource",
        ) from exc


def _shape_check(template: DataTemplate) -> None:
    from library.schema import TemplateShapeError, template_shape_check

    try:
        template_shape_check(template)
    except TemplateShapeError as exc:
        raise TemplateError(exc.message, code="shape", field=exc.field) from exc


def _save(template: DataTemplate, *, check_shape: bool = True) -> DataTemplate:
    if check_shape:
        _shape_check(template)
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError as exc:  # a concurrent save took the name
        raise TemplateError(
            f"A template named '{template.name}' already exists.", code="name", field="name"
        ) from exc
    return template


def _audit(template: DataTemplate, *, membership, action: str, **details: Any) -> None:
    template_audit(
        template=template,
        user=membership.user if membership is not None else None,
        action=action,
        **details,
    )


def template_audit(*, template: DataTemplate, user, action: str, **details: Any) -> None:
    """The one audit event of a template change (also written by the Django admin)."""
    audit_record(
        organization=template.organization,
        user=user,
        event_type=AuditEvent.Type.TEMPLATE,
        object_type=DataTemplate._meta.label,
        object_id=str(template.pk),
        object_repr=template.name,
        details={"action": action, "type": template.template_type, **details},
    )


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
    is_active: bool = True,
) -> DataTemplate:
    if is_shared:
        _share_check(membership=membership)
    _resource_check(resource)
    name = template_name_clean(organization=organization, template_type=template_type, name=name)
    template = DataTemplate(
        organization=organization,
        created_by=membership.user,
        name=name,
        description=description or "",
        resource=resource,
        template_type=template_type,
        mapping=mapping if mapping is not None else {},
        options=options if options is not None else {},
        rules=rules if rules is not None else {},
        on_duplicate=on_duplicate,
        mode=mode,
        is_shared=is_shared,
        is_active=is_active,
    )
    with transaction.atomic():
        _save(template)
        _audit(template, membership=membership, action="created")
    return template


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
    """Change what the member may change; one audit event naming the changed fields."""
    template_change_check(template=template, membership=membership)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    if changes.get("is_shared") and not template.is_shared:
        _share_check(membership=membership)
    if "name" in changes:
        changes["name"] = template_name_clean(
            organization=template.organization_id,
            template_type=template.template_type,
            name=changes["name"],
            exclude_pk=template.pk,
        )
    if "resource" in changes and changes["resource"] != template.resource:
        _resource_check(changes["resource"])
    changed = sorted(k for k, v in changes.items() if getattr(template, k) != v)
    old_name = template.name
    for key, value in changes.items():
        setattr(template, key, value)
    with transaction.atomic():
        # An old template whose shape no longer passes can still be renamed, shared or
        # deactivated; only a change to its contents must leave it in a valid shape.
        _save(template, check_shape=bool({"mapping", "options", "rules"} & set(changes)))
        if changed:
            details: dict[str, Any] = {"fields": changed}
            if "name" in changed:
                details["old_name"] = old_name
            action = "renamed" if changed == ["name"] else "updated"
            _audit(template, membership=membership, action=action, **details)
    return template


def template_rename(*, template: DataTemplate, membership, name: str) -> DataTemplate:
    return template_update(template=template, membership=membership, name=name)


def template_set_active(*, template: DataTemplate, membership, active: bool) -> DataTemplate:
    return template_update(template=template, membership=membership, is_active=active)


def template_delete(*, template: DataTemplate, membership) -> None:
    template_change_check(template=template, membership=membership)
    with transaction.atomic():
        _audit(template, membership=membership, action="deleted")
        template.delete()


def template_duplicate(*, template: DataTemplate, membership, name: str = "") -> DataTemplate:
    """A personal copy anyone who can see the template may make (e.g. to adapt a shared one)."""
    base = (name or f"{template.name} (copy)").strip()
    candidate, n = base, 2
    while not name and not template_name_free(
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
        mapping=_copy(template.mapping),
        options=_copy(template.options),
        rules=_copy(template.rules),
        on_duplicate=template.on_duplicate,
        mode=template.mode,
        is_shared=False,
    )


def _copy(value):
    return dict(value) if isinstance(value, dict) else value


def template_mark_used(*, template: DataTemplate | int, organization=None) -> None:
    """Record that a template was just applied (the library sorts and shows "last used")."""
    now = timezone.now()
    if isinstance(template, DataTemplate):
        DataTemplate.objects.filter(pk=template.pk).update(last_used_at=now)
        template.last_used_at = now
        return
    qs = DataTemplate.objects.filter(pk=template)
    if organization is not None:
        qs = qs.filter(organization=organization)
    qs.update(last_used_at=now)
