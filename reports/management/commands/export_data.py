"""Export a resource to a file from the command line, in-process, through the builder's code.

    python manage.py export_data contacts --format xlsx --output contacts.xlsx --org demo \
        --filter lifecycle_stage=customer --filter birth_date_from=1980-01-01 \
        --columns email,first_name,last_name

Exit code 1 with the reason on stderr for an unknown resource, format, column, filter or
organization; the output file is only created (atomically) when the export succeeded.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization
from business.audit import audit_record
from business.filters import filters_validate
from business.models import AuditEvent
from jobs.console import TerminalProgress
from jobs.errors import FerryError
from reports.exports.services import (
    export_columns_clean,
    export_format_clean,
    export_resource,
    export_write,
)


def parse_filters(items: list[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"--filter expects name=value, got '{item}'.")
        filters.setdefault(name.strip(), []).append(value.strip())
    return filters


class Command(BaseCommand):
    help = "Export a resource (contacts, products, sales-orders …) to CSV, XLSX, JSON or PDF."

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
        parser.add_argument("--quiet", action="store_true", help="no progress output")

    def handle(self, *args, **options):
        output = Path(options["output"])
        if not output.parent.exists():
            raise CommandError(f"The folder {output.parent} does not exist.")
        columns = [c.strip() for c in (options.get("columns") or "").split(",") if c.strip()]
        try:
            resource = export_resource(options["resource"])
            format = export_format_clean(options["format"])
            columns = export_columns_clean(resource=resource, columns=columns)
            filters = filters_validate(resource=resource, data=parse_filters(options["filter"]))
        except FerryError as exc:
            raise CommandError(exc.message) from exc
        organization = self._organization(options.get("org"))
        # Written beside the target and moved into place at the end: a failed export never
        # leaves a half-written file nor destroys an earlier one of the same name.
        fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
        os.close(fd)
        on_terminal = not options["quiet"] and sys.stderr.isatty()
        progress = TerminalProgress(self.stderr._out if on_terminal else None)
        try:
            written = export_write(
                organization=organization,
                resource=resource,
                format=format,
                path=tmp,
                filters=filters,
                columns=columns,
                options={"delimiter": options.get("delimiter"), "bom": options.get("bom")},
                progress=progress,
            )
            os.replace(tmp, output)
        except FerryError as exc:
            raise CommandError(exc.message) from exc
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        progress.finish()
        audit_record(
            organization=organization,
            event_type=AuditEvent.Type.EXPORT,
            object_type="export",
            object_id=resource.name,
            object_repr=f"Export of {resource.label} as {format.upper()}",
            details={
                "via": "command line",
                "resource": resource.name,
                "format": format,
                "columns": columns,
                "filters": filters,
                "rows": written,
            },
        )
        self.stdout.write(
            f"{resource.label}: {written:,} rows written to {output} ({organization.name})."
        )

    def _organization(self, slug: str | None) -> Organization:
        if slug:
            try:
                return Organization.objects.get(slug=slug)
            except Organization.DoesNotExist as exc:
                raise CommandError(f"No organization with the slug '{slug}'.") from exc
        orgs = list(Organization.objects.order_by("slug")[:2])
        if len(orgs) == 1:
            return orgs[0]
        if not orgs:
            raise CommandError("There is no organization yet.")
        slugs = ", ".join(Organization.objects.order_by("slug").values_list("slug", flat=True))
        raise CommandError(f"There are several organizations: pass --org (one of: {slugs}).")
