"""The reports app's models live with the feature that owns them."""

from reports.schedules.models import (  # noqa: F401
    NotificationSettings,
    Schedule,
    ScheduleRun,
    ScheduleRunFile,
)
