"""Huey discovers ``<app>.tasks``; the export builder and the reports keep their tasks apart."""

from reports.exports.tasks import *  # noqa: F401,F403
from reports.ready.tasks import *  # noqa: F401,F403
