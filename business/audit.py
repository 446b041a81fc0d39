from __future__ import annotations

from django.utils import timezone

from business.models import AuditEvent


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    organization,
    event_type: str,
    user=None,
    obj=None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    details: dict | None = None,
    request=None,
) -> AuditEvent:
    """Write one audit event; the object, when given, supplies type, id and text."""
    if obj is not None:
        object_type = object_type or obj._meta.label
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:300]
    return AuditEvent.objects.create(
        organization=organization,
        time=timezone.now(),
        user=user if user is not None and getattr(user, "is_authenticated", False) else None,
        event_type=event_type,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:300],
        details=details or {},
        ip_address=client_ip(request),
    )
