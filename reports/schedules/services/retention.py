"""Run files deleted after their organization's retention; the history rows stay."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from reports.schedules.models import NotificationSettings, ScheduleRunFile


def schedule_files_purge(*, now: dt.datetime | None = None) -> int:
    """Delete run files older than their organization's retention; the history rows stay."""
    now = now or timezone.now()
    purged = 0
    retention = dict(NotificationSettings.objects.values_list("organization_id", "retention_days"))
    files = ScheduleRunFile.objects.filter(purged_at__isnull=True).exclude(file="")
    for f in files.select_related("run").iterator(chunk_size=500):
        days = retention.get(f.run.organization_id, 30)
        if f.created_at > now - dt.timedelta(days=days):
            continue
        name = f.file.name
        ScheduleRunFile.objects.filter(pk=f.pk).update(file="", purged_at=now)
        f.file.storage.delete(name)
        purged += 1
    return purged
