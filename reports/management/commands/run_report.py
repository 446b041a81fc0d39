"""Run a ready-made report from the command line, straight to a file (no worker needed).

    python manage.py run_report sales --format xlsx --output sales.xlsx --org demo \
        --param date_from=2026-01-01 --param status=confirmed,invoiced

Exit status 0 when the file was written; 1 for an unknown report, a wrong parameter or
organization, or a failed render (with --json: one JSON object on stdout, errors included).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from django.core.management.base import CommandError

from accounts.models import Organization
from jobs.console import JsonCommand, organization_from_option
from jobs.errors import FerryError
from reports.cli import output_atomic
from reports.exporters import ExportParamsInvalid, export_audit, export_render, exporter_get
from reports.ready.base import Report


class ConsoleProgress:
    """Prints the percentage to stderr now and then; a command line has nothing to cancel."""

    def __init__(self, stream, *, quiet: bool):
        self.stream = stream
        self.quiet = quiet
        self.total: int | None = None
        self._last = -10

    def set_total(self, total: int | None) -> None:
        self.total = total

    def update(self, *, processed: int, **counts) -> None:
        if self.quiet or not self.total:
            return
        percent = processed * 100 // self.total
        if percent >= self._last + 10 or processed == self.total:
            self._last = percent
            self.stream.write(f"  {processed:,} of {self.total:,} rows ({percent}%)\n")

    def check_cancel(self, *, force: bool = False) -> None:
        return None


def parse_params(pairs: list[str]) -> dict[str, object]:
    """``name=value`` pairs; a repeated name collects a list (``--param status=a --param status=b``)."""
    params: dict[str, object] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise CommandError(f"--param '{pair}' is not of the form name=value.")
        if name in params:
            previous = params[name]
            params[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            params[name] = value
    return params


class Command(JsonCommand):
    help = (
        "Run a ready-made report (sales, customer-aging, inventory-valuation, audit-log) to a file. "
        "Exit status: 0 written; 1 an argument or the organization is wrong, or the report failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("report", help="Report identifier, e.g. sales or customer-aging.")
        parser.add_argument("--format", required=True, choices=Report.formats)
        parser.add_argument("--output", required=True, help="File to write.")
        parser.add_argument(
            "--org", help="Organization slug (required when there is more than one)."
        )
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="A report parameter, e.g. date_from=2026-01-01; repeat for more.",
        )
        parser.add_argument("--quiet", action="store_true", help="No progress output.")
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object (errors included)."
        )

    def handle(self, *args, **options):
        try:
            report = exporter_get(options["report"], kind="report")
        except FerryError as exc:
            raise CommandError(exc.message) from exc
        organization = self._organization(options.get("org"))
        params = parse_params(options["param"])
        output = Path(options["output"])
        progress = ConsoleProgress(self.stderr, quiet=options["quiet"] or options["json"])
        # WeasyPrint narrates every page it lays out; the command prints its own progress.
        logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
        try:
            with output_atomic(output) as tmp:
                result = export_render(
                    organization=organization,
                    exporter=report,
                    format=options["format"],
                    params=params,
                    path=tmp,
                    progress=progress,
                )
        except ExportParamsInvalid as exc:
            lines = [f"  {name}: {' '.join(msgs)}" for name, msgs in exc.errors.items()]
            raise CommandError(
                f"Invalid parameters for the report '{report.identifier}':\n" + "\n".join(lines)
            ) from exc
        except FerryError as exc:
            raise CommandError(exc.message) from exc
        export_audit(
            organization=organization,
            user=None,
            exporter=report,
            format=options["format"],
            params=params,
            rows=result.get("rows", 0),
            via="command line",
        )
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "status": "completed",
                        "report": report.identifier,
                        "format": options["format"],
                        "rows": result.get("rows", 0),
                        "output": str(output),
                        "organization": organization.slug,
                        "summary": {str(k): str(v) for k, v in result.get("summary_items", [])},
                    }
                )
            )
            return
        self.stdout.write(
            f"{report.name}: {result.get('rows', 0):,} rows written to {output} "
            f"({organization.name})."
        )
        for label, value in result.get("summary_items", []):
            self.stdout.write(f"  {label}: {value}")

    def _organization(self, slug: str | None) -> Organization:
        return organization_from_option(slug)
