"""Scheduled exports from the command line.

    python manage.py schedules list [--org demo]
    python manage.py schedules run "Weekly sales" [--org demo] [--queue]
    python manage.py schedules pause "Weekly sales" [--org demo]

``run`` runs the schedule now in this process (with its owner's permissions, e-mail included)
unless ``--queue`` hands it to the workers. Exit status 1 with a message for an unknown or
ambiguous name, and when the run fails.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from jobs.console import organization_from_option
from reports.schedules import selectors as sel
from reports.schedules.models import Schedule
from reports.schedules.recurrence import rule_describe
from reports.schedules.services import schedule_pause, schedule_run_here, schedule_trigger


class Command(BaseCommand):
    help = "List, run or pause scheduled exports."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "run", "pause"])
        parser.add_argument("name", nargs="?", help="The schedule's name (run, pause)")
        parser.add_argument("--org", help="Organization slug (needed when names repeat)")
        parser.add_argument(
            "--queue", action="store_true", help="run: queue for the workers instead"
        )

    def _organization(self, slug):
        return organization_from_option(slug, required=False)

    def handle(self, *args, action, name=None, org=None, queue=False, **options):
        organization = self._organization(org)
        if action == "list":
            return self._list(organization)
        if not name:
            raise CommandError(f"Give the schedule's name: schedules {action} NAME")
        schedule = self._schedule(name, organization)
        if action == "pause":
            schedule_pause(schedule=schedule, reason="Paused from the command line.")
            self.stdout.write(f"Paused “{schedule.name}”.")
            return None
        run = schedule_trigger(schedule=schedule, queue=queue, via="cli")
        if queue:
            self.stdout.write(f"Queued run #{run.pk} (job #{run.job_id}) of “{schedule.name}”.")
            return None
        self.stdout.write(f"Running “{schedule.name}” now …")
        run = schedule_run_here(run=run)
        files = ", ".join(f"{f.filename} ({f.size:,} bytes)" for f in run.files.all())
        if run.status == "failed":
            raise CommandError(f"Run #{run.pk} failed: {run.error_message}")
        self.stdout.write(
            f"Run #{run.pk}: {run.get_status_display()}, {run.rows or 0:,} rows"
            + (f", files: {files}" if files else "")
            + (f", e-mailed to {', '.join(run.recipients)}" if run.recipients else "")
            + (f". {run.note}" if run.note else "")
        )
        return None

    def _schedule(self, name: str, organization) -> Schedule:
        qs = Schedule.objects.select_related("organization", "owner").filter(name=name)
        if organization is not None:
            qs = qs.filter(organization=organization)
        found = list(qs[:2])
        if not found:
            raise CommandError(f"No schedule named '{name}'. See: manage.py schedules list")
        if len(found) > 1:
            raise CommandError(f"Several organizations have a schedule '{name}'; add --org SLUG.")
        return found[0]

    def _list(self, organization) -> None:
        qs = Schedule.objects.select_related("organization").order_by("organization__slug", "name")
        if organization is not None:
            qs = sel.schedules_list(organization=organization).select_related("organization")
        now = timezone.now()
        rows = list(qs)
        if not rows:
            self.stdout.write("No schedules.")
            return
        for s in rows:
            state = "active" if s.is_active else "paused"
            nxt = s.next_run_at.strftime("%Y-%m-%d %H:%M UTC") if s.next_run_at else "-"
            overdue = " OVERDUE" if s.is_active and s.next_run_at and s.next_run_at < now else ""
            self.stdout.write(
                f"{s.organization.slug}\t{s.name}\t{s.exporter}\t{'+'.join(s.formats)}\t"
                f"{state}\tnext {nxt}{overdue}\t{rule_describe(rule=s.rrule, tz=s.timezone)}"
            )
