"""Schedules: save, activate, pause, duplicate, delete, trigger; claim due slots; run; deliver.

Exactly once per slot: ``schedules_claim_due`` moves ``next_run_at`` forward with a conditional
UPDATE (only the worker that still sees the old value wins) and records the run under a unique
(schedule, slot) constraint in the same transaction, so however many consumers tick at the same
minute, one run exists per slot. After downtime the next slot is computed from *now*, so a
missed slot runs once (marked late), not once per missed occurrence.

One module a part: ``common`` (settings, errors, the manager check), ``editing``, ``queueing``,
``running``, ``notifications``, ``retention``. The names callers use are importable from here.
"""

from reports.schedules.services.common import (
    ScheduleAccessLost,
    ScheduleDeliveryFailed,
    ScheduleForbidden,
    ScheduleInvalid,
    addresses_clean,
    setting,
)
from reports.schedules.services.editing import (
    schedule_activate,
    schedule_as_data,
    schedule_create,
    schedule_delete,
    schedule_duplicate,
    schedule_pause,
    schedule_update,
)
from reports.schedules.services.notifications import (
    notification_settings_get,
    notification_settings_update,
)
from reports.schedules.services.queueing import (
    schedule_run_here,
    schedule_trigger,
    schedules_claim_due,
)
from reports.schedules.services.retention import schedule_files_purge
from reports.schedules.services.running import (
    schedule_run_execute,
    schedule_run_fail,
    schedule_run_finish,
    schedule_run_succeeded,
)

__all__ = [
    "ScheduleAccessLost",
    "ScheduleDeliveryFailed",
    "ScheduleForbidden",
    "ScheduleInvalid",
    "addresses_clean",
    "notification_settings_get",
    "notification_settings_update",
    "schedule_activate",
    "schedule_as_data",
    "schedule_create",
    "schedule_delete",
    "schedule_duplicate",
    "schedule_files_purge",
    "schedule_pause",
    "schedule_run_execute",
    "schedule_run_fail",
    "schedule_run_finish",
    "schedule_run_here",
    "schedule_run_succeeded",
    "schedule_trigger",
    "schedule_update",
    "schedules_claim_due",
    "setting",
]
