"""An organization's schedule notification settings: who is told, from whom, and how long run
files are kept.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from business.audit import audit_record
from business.models import AuditEvent
from reports.schedules.models import NotificationSettings
from reports.schedules.services.common import ScheduleInvalid, _require_manager, addresses_clean


def notification_settings_get(*, organization) -> NotificationSettings:
    found, _ = NotificationSettings.objects.get_or_create(organization=organization)
    return found


def notification_settings_update(
    *, organization, user, data: dict[str, Any], request=None
) -> NotificationSettings:
    _require_manager(organization=organization, user=user)
    current = notification_settings_get(organization=organization)
    errors: dict[str, list[str]] = {}
    notify_on = data.get("notify_on", current.notify_on)
    if notify_on not in NotificationSettings.NotifyOn.values:
        errors["notify_on"] = ["Choose none, success, failure or both."]
    recipients_given = data.get("default_recipients", current.default_recipients)
    try:
        if recipients_given is not None and not isinstance(recipients_given, str | list | tuple):
            raise ScheduleInvalid({"default_recipients": ["Give a list of e-mail addresses."]})
        recipients = addresses_clean(recipients_given, field="default_recipients")
    except ScheduleInvalid as exc:
        errors.update(exc.errors)
        recipients = []
    # Text fields come from a form or a JSON body: anything but text (a list, a number) is
    # refused as the field's error rather than failing on .strip().
    texts: dict[str, str] = {}
    for name in ("reply_to", "from_name"):
        value = data.get(name, getattr(current, name))
        if value is not None and not isinstance(value, str):
            errors[name] = ["Give a text."]
            value = ""
        texts[name] = (value or "").strip()
    reply_to = texts["reply_to"]
    if reply_to and "reply_to" not in errors:
        try:
            validate_email(reply_to)
        except ValidationError:
            errors["reply_to"] = [f"Not a valid e-mail address: {reply_to}."]
    try:
        retention = int(data.get("retention_days", current.retention_days))
        if not 1 <= retention <= 3650:
            raise ValueError
    except (TypeError, ValueError):
        errors["retention_days"] = ["Keep files between 1 and 3650 days."]
        retention = current.retention_days
    if errors:
        raise ScheduleInvalid(errors)
    current.notify_on = notify_on
    current.default_recipients = recipients
    current.from_name = texts["from_name"][:100]
    current.reply_to = reply_to
    current.retention_days = retention
    current.weekly_summary = bool(data.get("weekly_summary", current.weekly_summary))
    current.save()
    audit_record(
        organization=organization,
        event_type=AuditEvent.Type.SETTINGS,
        user=user,
        object_type="schedule_notifications",
        object_id=str(current.pk),
        object_repr="Schedule notification settings",
        details={"action": "updated", "notify_on": notify_on, "retention_days": retention},
        request=request,
    )
    return current
