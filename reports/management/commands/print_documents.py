"""Print sales-order documents from the command line, straight to a file (no worker needed).

    python manage.py print_documents invoice --filter status=invoiced --output invoices.zip
    python manage.py print_documents picking_list --filter order_date__gte=2026-01-01 \
        --merged --output picking.pdf --org demo
    python manage.py print_documents delivery_note --id 42 --output note.zip

One PDF per order in a ZIP (named by order number), or ``--merged`` for one PDF. Rendered in
parallel worker processes like the PDF writer; the file appears only when every order rendered.
Exit status 0 when the file was written; 1 for a wrong argument, organization or template.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from django.core.management.base import CommandError

from accounts.models import Organization
from jobs.console import JsonCommand, TerminalProgress
from jobs.errors import FerryError
from reports.cli import output_atomic
from reports.documents.kinds import document_get, documents_all
from reports.documents.selectors import documents_orders
from reports.documents.services import documents_batch_render
from reports.exporters import export_audit


class Command(JsonCommand):
    help = (
        "Print invoices, delivery notes, picking lists or quotes for sales orders into a ZIP "
        "(one PDF per order) or one merged PDF. Exit status: 0 written; 1 a wrong argument."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "kind",
            choices=sorted(d.identifier for d in documents_all()),
            help="The document to print.",
        )
        parser.add_argument("--output", required=True, help="File to write (.zip, or .pdf).")
        parser.add_argument("--org", help="Organization slug (required when there are several).")
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="A sales-order filter as on the records page, e.g. status=invoiced; repeat.",
        )
        parser.add_argument(
            "--id", action="append", type=int, default=[], help="An order id; repeat for more."
        )
        parser.add_argument("--merged", action="store_true", help="One merged PDF, not a ZIP.")
        parser.add_argument("--workers", type=int, help="Render processes (default: as PDFs).")
        parser.add_argument("--quiet", action="store_true", help="No progress output.")
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object (errors included)."
        )

    def handle(self, *args, **options):
        document = document_get(options["kind"])
        organization = self._organization(options.get("org"))
        filters: dict[str, str] = {}
        for pair in options["filter"]:
            name, sep, value = pair.partition("=")
            if not sep or not name.strip():
                raise CommandError(f"--filter '{pair}' is not of the form name=value.")
            filters[name.strip()] = value
        mode = "merged" if options["merged"] else "zip"
        output = Path(options["output"])
        quiet = options["quiet"] or options["json"] or not sys.stderr.isatty()
        progress = TerminalProgress(None if quiet else self.stderr)
        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        try:
            orders = documents_orders(
                organization=organization, ids=options["id"] or None, filters=filters
            )
            with output_atomic(output) as tmp:
                result = documents_batch_render(
                    organization=organization,
                    orders=orders,
                    document=document,
                    mode=mode,
                    path=tmp,
                    progress=progress,
                    workers=options.get("workers"),
                )
        except FerryError as exc:
            raise CommandError(exc.message) from exc
        export_audit(
            organization=organization,
            user=None,
            exporter=document,
            format="zip" if mode == "zip" else "pdf",
            params={"filters": filters, "ids": options["id"] or None, "pages": result.pages},
            rows=result.orders,
            via="command line",
        )
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "status": "completed",
                        "document": document.identifier,
                        "mode": mode,
                        "orders": result.orders,
                        "pages": result.pages,
                        "output": str(output),
                        "organization": organization.slug,
                    }
                )
            )
            return
        self.stdout.write(
            f"{document.plural}: {result.orders:,} orders, {result.pages:,} pages written to "
            f"{output} ({organization.name})."
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
