"""Huey discovers ``<app>.tasks``: one task runs every exporter."""

from reports.exporters.tasks import *  # noqa: F401,F403
from reports.schedules.tasks import *  # noqa: F401,F403
