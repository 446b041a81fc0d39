"""Undo a finished import: delete what it created, restore what it updated.

It first computes the plan (the same one the undo page and the API show): by model, what is
deleted (including what cascades remove), restored, or left alone because it was changed
after the import or records the import did not create depend on it. ``--plan`` only prints it;
otherwise exactly that plan is carried out. ``--force`` also undoes what would be left alone.

Exit status: 0 all undone (or, with --plan, nothing would be left alone); 2 some records were
left alone; 1 the job cannot be undone or an argument is wrong. With --json every outcome,
errors included, is one JSON object on stdout.
"""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from jobs.console import JsonCommand
from jobs.errors import FerryError
from jobs.models import DataJob

EXIT_KEPT = 2


class Command(JsonCommand):
    help = (
        "Undo a finished import job (--plan: only show what it would do). Exit status: 0 all "
        "undone; 2 some records were left alone; 1 the job cannot be undone."
    )

    def add_arguments(self, parser):
        parser.add_argument("job_id", type=int)
        parser.add_argument(
            "--force",
            action="store_true",
            help="also undo the records left alone (changed since, or needed by later records)",
        )
        parser.add_argument(
            "--plan", action="store_true", help="only show what the undo would do; change nothing"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **o):
        self.exit_with(o, lambda: EXIT_KEPT if self._undo(o) else 0)

    def _undo(self, o) -> int:
        from wizard.services import import_undo, import_undo_plan

        job = DataJob.objects.filter(pk=o["job_id"], job_type=DataJob.Type.IMPORT).first()
        if job is None:
            raise CommandError(f"No import job {o['job_id']}.")
        try:
            if o["plan"]:
                plan = import_undo_plan(job=job, force=o["force"])
                self._print(job, plan.as_dict(), planned=True, json_out=o["json"])
                kept = plan.kept_count
            else:
                result = import_undo(job=job, user=job.user, force=o["force"])
                self._print(job, result.plan.as_dict(), planned=False, json_out=o["json"])
                kept = result.skipped_conflicts
        except FerryError as exc:
            raise CommandError(exc.message) from None
        return kept

    def _print(self, job: DataJob, plan: dict, *, planned: bool, json_out: bool) -> None:
        if json_out:
            out = {
                "job_id": job.pk,
                "status": "planned" if planned else "undone",
                "deleted": plan["delete"],
                "restored": plan["restore"],
                "skipped_conflicts": plan["kept"],
                "by_model": plan["by_model"],
                "conflicts": plan["conflicts"],
                "force": plan["force"],
            }
            if planned:
                out["digest"] = plan["digest"]
            self.stdout.write(json.dumps(out))
            return
        w = self.stdout.write
        if planned:
            w(
                f"Undoing import {job.pk} would delete {plan['delete']:,} records and restore "
                f"{plan['restore']:,} (nothing was changed):"
            )
        else:
            w(
                f"Import {job.pk} undone: {plan['delete']:,} records deleted, "
                f"{plan['restore']:,} restored."
            )
        for row in plan["by_model"]:
            parts = [f"{row['delete']:,} deleted"]
            if row["cascade"]:
                parts[0] += f" ({row['cascade']:,} by cascade)"
            if row["restore"]:
                parts.append(f"{row['restore']:,} restored")
            if row["unlink"]:
                parts.append(
                    f"{row['unlink']:,} reference{'s' if row['unlink'] != 1 else ''} cleared"
                )
            if row["kept"]:
                parts.append(f"{row['kept']:,} left alone")
            w(f"  {row['label']}: {', '.join(parts)}")
        if plan["kept"]:
            w(
                f"{plan['kept']:,} records {'would be' if planned else 'were'} left alone "
                "(run with --force to undo them too; --plan --force shows what that does):"
            )
            for message in plan["conflicts"]:
                w(f"  {message}")
