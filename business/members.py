"""What the members page (accounts) needs from the business app: the per-model permission rows,
generated from the resource registry, and an audit event for every change to a member."""

from __future__ import annotations

from django.dispatch import receiver

from accounts.members import ModelPermissionRow, member_changed, model_permission_rows_register
from business.audit import audit_record
from business.models import AuditEvent
from business.resources import registry


def model_permission_rows() -> list[ModelPermissionRow]:
    return [
        ModelPermissionRow(
            label=resource.label,
            import_code=resource.import_permission() if resource.importable else None,
            export_code=resource.export_permission(),
            export_pdf_code=resource.export_pdf_permission(),
        )
        for resource in registry.all()
    ]


model_permission_rows_register(model_permission_rows)


@receiver(member_changed, dispatch_uid="business.audit_member_changed")
def audit_member_changed(
    sender,
    organization,
    actor,
    action,
    object_type,
    object_id,
    object_repr,
    details,
    request,
    **kwargs,
):
    audit_record(
        organization=organization,
        event_type=AuditEvent.Type.MEMBER,
        user=actor,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        details={"action": action, **details},
        request=request,
    )
