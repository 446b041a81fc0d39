"""Export a resource to a file from the command line, in-process, through the builder's code.

    python manage.py export_data contacts --format xlsx --output contacts.xlsx --org demo \
        --filter lifecycle_stage=customer --filter birth_date_from=1980-01-01 \
        --columns email,first_name,last_name

Exit status 0 when the file was written; 1 with the reason on stderr for an unknown resource,
format, column, filter or organization (with --json: one JSON object on stdout, errors
included); the output file is only created (atomically) when the export succeeded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import CommandError

from accounts.models import Organization
from jobs.console import JsonCommand, TerminalProgress, organization_from_option
from jobs.errors import FerryError
from reports.cli import output_atomic
from reports.exporters import export_audit, export_render
from reports.exports.exporter import resource_exporter
from reports.exports.services import export_resource


def parse_filters(items: list[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"--filter expects name=value, got '{item}'.")
        filters.setdefault(name.strip(), []).append(value.strip())
    return filters


class Command(JsonCommand):
    help = (
        "Export a resource (contacts, products, sales-orders …) to CSV, XLSX, JSON or PDF. "
        "Exit status: 0 written; 1 an argument or the organization is wrong, or the export failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("resource", help="plural, hyphenated: contacts, sales-orders …")
        parser.add_argument("--format", required=True, help="csv, xlsx, json, jsonl or pdf")
        parser.add_argument("--output", required=True, help="the file to write")
        parser.add_argument("--org", help="organization slug (required when there are several)")
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="a filter, e.g. lifecycle_stage=customer or birth_date_from=1980-01-01; repeat",
        )
        parser.add_argument("--columns", help="comma-separated field names, in order")
        parser.add_argument("--delimiter", help="CSV delimiter (one character, or 'tab')")
        parser.add_argument("--bom", action="store_true", help="CSV: start with a UTF-8 BOM")
        parser.add_argument(
            "--choice-codes",
            action="store_true",
            help="write choice fields as their codes (invoiced), not their labels (Invoiced)",
        )
        parser.add_argument("--quiet", action="store_true", help="no progress output")
        parser.add_argument(
            "--json", action="store_true", help="print one JSON object (errors included)"
        )

    def handle(self, *args, **options):
        output = Path(options["output"])
        columns = [c.strip() for c in (options.get("columns") or "").split(",") if c.strip()]
        try:
            resource = export_resource(options["resource"])
            exporter = resource_exporter(resource)
            format = exporter.format_clean(options["format"])
            params = {
                "filters": parse_filters(options["filter"]),
                "columns": columns,
                "options": {
                    "delimiter": options.get("delimiter"),
                    "bom": options.get("bom"),
                    "choice_codes": options.get("choice_codes"),
                },
            }
            params = exporter.params_clean(organization=None, params=params).params
        except FerryError as exc:
            raise CommandError(exc.message) from exc
        organization = self._organization(options.get("org"))
        on_terminal = not (options["quiet"] or options["json"]) and sys.stderr.isatty()
        progress = TerminalProgress(self.stderr._out if on_terminal else None)
        try:
            with output_atomic(output) as tmp:
                written = export_render(
                    organization=organization,
                    exporter=exporter,
                    format=format,
                    path=tmp,
                    params=params,
                    progress=progress,
                )["rows"]
        except FerryError as exc:
            raise CommandError(exc.message) from exc
        progress.finish()
        export_audit(
            organization=organization,
            user=None,
            exporter=exporter,
            format=format,
            params=params,
            rows=written,
            via="command line",
        )
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "status": "completed",
                        "resource": resource.name,
                        "format": format,
                        "rows": written,
                        "output": str(output),
                        "organization": organization.slug,
                    }
                )
            )
            return
        self.stdout.write(
            f"{resource.label}: {written:,} rows written to {output} ({organization.name})."
        )

    def _organization(self, slug: str | None) -> Organization:
        return organization_from_option(slug)
