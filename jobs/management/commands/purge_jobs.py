from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from jobs.selectors import job_files, jobs_expired
from jobs.services import jobs_purge


class Command(BaseCommand):
    help = (
        "Delete finished jobs (completed, failed, cancelled) and never-started import drafts "
        "(pending) older than the retention age, with their row logs and files. Queued and "
        "running jobs are never touched."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.FERRY["JOB_RETENTION_DAYS"],
            help="Retention age in days (default: FERRY_JOB_RETENTION_DAYS, now %(default)s).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only report what would be deleted.",
        )

    def handle(self, *args, days: int, dry_run: bool, **options):
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        older_than = timedelta(days=days)
        if dry_run:
            expired = jobs_expired(older_than=older_than)
            files = sum(
                len(job_files(job=job))
                for job in expired.only("input_file", "output_file", "summary").iterator()
            )
            self.stdout.write(
                f"Dry run: {expired.count()} jobs older than {days} days and {files} files "
                "would be deleted."
            )
            return
        jobs, files = jobs_purge(older_than=older_than)
        self.stdout.write(
            self.style.SUCCESS(f"Deleted {jobs} jobs older than {days} days and {files} files.")
        )
