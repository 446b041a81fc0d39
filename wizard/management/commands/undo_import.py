"""Undo a finished import: delete what it created, restore what it updated.

Records someone changed after the import are kept (and listed) unless --force.
Exit codes: 0 all undone; 2 some records were kept; 1 the job cannot be undone.
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand

from jobs.errors import FerryError
from jobs.models import DataJob


class Command(BaseCommand):
    help = "Undo a finished import job."

    def add_arguments(self, parser):
        parser.add_argument("job_id", type=int)
        parser.add_argument("--force", action="store_true", help="also undo records changed since")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        from wizard.services import import_undo

        job = DataJob.objects.filter(pk=o["job_id"], job_type=DataJob.Type.IMPORT).first()
        if job is None:
            self.stderr.write(f"No import job {o['job_id']}.")
            sys.exit(1)
        try:
            result = import_undo(job=job, user=job.user, force=o["force"])
        except FerryError as exc:
            self.stderr.write(exc.message)
            sys.exit(1)
        if o["json"]:
            self.stdout.write(json.dumps({"job_id": job.pk, **result.as_dict()}))
        else:
            self.stdout.write(
                f"Import {job.pk} undone: {result.deleted:,} records deleted, "
                f"{result.restored:,} restored."
            )
            if result.skipped_conflicts:
                self.stdout.write(
                    f"{result.skipped_conflicts:,} records were changed after the import and kept "
                    "(run again with --force to undo them too):"
                )
                for message in result.conflicts:
                    self.stdout.write(f"  {message}")
        if result.skipped_conflicts:
            sys.exit(2)
