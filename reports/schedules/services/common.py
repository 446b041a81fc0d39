"""What the schedule services share: settings with their defaults, the errors users see, the
owner's membership and the manager check, the next slot, the audit record.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.models import Membership
from accounts.permissions import MANAGE_SCHEDULES
from business.audit import audit_record
from business.models import AuditEvent
from jobs.errors import FerryError
from reports.schedules import recurrence
from reports.schedules.models import Schedule, ScheduleRun

Status = ScheduleRun.Status


def setting(name: str) -> Any:
    defaults = {
        "SCHEDULE_MAX_FAILURES": 3,
        "SCHEDULE_DELIVERY_TRIES": 3,
        "SCHEDULE_RUN_TRIES": 3,
        "SCHEDULE_RETRY_BASE_SECONDS": 60,
        "SCHEDULE_ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,
        "SCHEDULE_LINK_MAX_AGE_DAYS": 7,
        "SCHEDULE_LATE_AFTER_SECONDS": 300,
    }
    return settings.FERRY.get(name, defaults[name])


class ScheduleInvalid(FerryError):
    """The schedule as given cannot be saved; ``errors`` maps field → messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        text = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
        super().__init__(f"The schedule is not valid. {text}", code="invalid")


class ScheduleAccessLost(FerryError):
    """At run time the owner may no longer run the exporter (or left the organization)."""


class ScheduleDeliveryFailed(FerryError):
    pass


# --- validation ------------------------------------------------------------------------------


def addresses_clean(value, *, field: str) -> list[str]:
    """A list (or comma/semicolon/newline separated text) of valid, distinct addresses."""
    if value is None:
        return []
    if isinstance(value, str):
        for sep in (";", "\n", "\r"):
            value = value.replace(sep, ",")
        value = value.split(",")
    out: list[str] = []
    bad: list[str] = []
    for raw in value:
        address = str(raw).strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
            continue
        if address.lower() not in {a.lower() for a in out}:
            out.append(address)
    if bad:
        raise ScheduleInvalid({field: [f"Not a valid e-mail address: {', '.join(bad)}."]})
    return out


def _membership(*, organization, user) -> Membership | None:
    if user is None:
        return None
    return (
        Membership.objects.select_related("organization", "user")
        .filter(organization=organization, user=user)
        .first()
    )


def _next(schedule: Schedule, *, after: dt.datetime) -> dt.datetime | None:
    return recurrence.next_run(rule=schedule.rrule, tz=schedule.timezone, after=after)


def _audit(schedule: Schedule, *, user, action: str, request=None, **details: Any) -> None:
    audit_record(
        organization=schedule.organization,
        event_type=AuditEvent.Type.SETTINGS,
        user=user,
        object_type="schedule",
        object_id=str(schedule.pk),
        object_repr=schedule.name,
        details={"action": action, "schedule": schedule.pk, **details},
        request=request,
    )


class ScheduleForbidden(FerryError):
    def __init__(self):
        super().__init__(
            f"You do not have the permission to manage schedules ({MANAGE_SCHEDULES}).",
            code="permission_denied",
        )


def _require_manager(*, organization, user) -> Membership:
    membership = _membership(organization=organization, user=user)
    if membership is None or not membership.has_perm(MANAGE_SCHEDULES):
        raise ScheduleForbidden()
    return membership
