"""Queue the syncs whose interval has passed (what the worker's periodic task does every minute)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from sync.services import syncs_due_queue


class Command(BaseCommand):
    help = "Queue a sync job for every connection with automatic sync whose interval has passed."

    def handle(self, *args, **o):
        jobs = syncs_due_queue()
        if not jobs:
            self.stdout.write("No sync is due.")
        for job in jobs:
            self.stdout.write(f"Sync of '{job.params['connection']}' queued as job {job.pk}.")
