"""The document kinds, each one exporter of the unified registry (``reports.exporters``).

A kind says which template prints it, which permission code it needs (``can_print_<kind>``,
for both formats) and what it shows; the arithmetic is the same for all of them
(``selectors.order_document``). Formats: ``pdf`` (one order, or many merged into one PDF) and
``zip`` (one PDF per order). Because they are exporters, the jobs, the audit, the command line
and schedules treat them like any report: ``export_create`` / ``export_run`` /
``export_render``; only the file is theirs to make (``render_file``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from accounts.permissions import print_code
from reports.documents.forms import DocumentParamsForm
from reports.exporters.base import Exporter
from reports.exporters.registry import exporter_get, exporters_all, exporters_for, register

KIND = "document"
# A document's format → how the orders' PDFs are delivered.
MODES = {"zip": "zip", "pdf": "merged"}


class DocumentExporter(Exporter):
    kind = KIND
    noun = "document"
    formats = ("pdf", "zip")
    job_type = "export"
    audit_event = "export"
    form_class = DocumentParamsForm
    own_file = True
    # Templates receive the class itself; Django must not call it.
    do_not_call_in_templates = True
    # Printed as the page's title and in file names.
    template: ClassVar[str]
    # The batch's name on the jobs pages ("Invoices").
    plural: ClassVar[str]
    shows_prices: ClassVar[bool] = True
    # Days after the order date printed as the due date (invoice) or "valid until" (quote).
    days_after: ClassVar[int | None] = None
    days_label: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "identifier" in cls.__dict__:
            cls.permission = cls.pdf_permission = print_code(cls.identifier)

    @classmethod
    def extension_for(cls, format: str) -> str:
        return format

    @classmethod
    def job_label(cls, *, params: dict[str, Any]) -> str:
        return cls.plural

    @classmethod
    def audit_repr(cls, *, format: str) -> str:
        return f"{cls.plural} ({'one PDF per order, in a ZIP' if format == 'zip' else 'PDF'})"

    @classmethod
    def check(cls, *, organization, format: str, params: dict[str, Any]) -> None:
        from reports.documents.services import documents_count_check

        documents_count_check(organization=organization, params=params)

    @classmethod
    def job_summary(cls, *, job, params: dict[str, Any], result: dict[str, Any]) -> dict:
        return {
            "rows": result.get("rows", 0),
            "orders": result.get("rows", 0),
            "pages": result.get("pages", 0),
            "mode": MODES.get(job.format, job.format),
        }

    def render(self, *, organization, params, writer, progress) -> dict:
        # export_render calls render_file for kinds with own_file; a table writer has no use.
        raise NotImplementedError("Documents lay out their own pages: use render_file.")

    def render_file(self, *, organization, params: dict[str, Any], format: str, path, progress):
        """Every chosen order's document into ``path``: a ZIP or one merged PDF."""
        from reports.documents.selectors import documents_orders
        from reports.documents.services import documents_batch_render, documents_none_write

        orders = documents_orders(organization=organization, **params)
        if not orders.exists():
            # A schedule's day without orders is no failure: an empty ZIP, or a page saying so
            # (the schedule's "only when there are rows" decides whether it is sent).
            documents_none_write(document=type(self), format=format, path=path)
            return {"rows": 0, "pages": 0, "summary_items": [["Orders", "0"]]}
        result = documents_batch_render(
            organization=organization,
            orders=orders,
            document=type(self),
            mode=MODES[format],
            path=path,
            progress=progress,
        )
        return {
            "rows": result.orders,
            "pages": result.pages,
            "summary_items": [["Orders", f"{result.orders:,}"], ["Pages", f"{result.pages:,}"]],
        }

    @classmethod
    def second_date(cls, order_date: dt.date) -> dt.date | None:
        if cls.days_after is None:
            return None
        return order_date + dt.timedelta(days=cls.days_after)

    @classmethod
    def filename(cls, number: str) -> str:
        """``invoice-SO-0000042.pdf``: kind and order number, safe in any file system."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in number).strip(".")
        return f"{cls.identifier.replace('_', '-')}-{safe or 'order'}.pdf"


def document_get(kind: str) -> type[DocumentExporter]:
    """The document kind called ``kind`` ("delivery-note" spelt either way); UnknownExporter
    (a 404) otherwise."""
    return exporter_get((kind or "").strip().lower().replace("-", "_"), kind=KIND)


def documents_all() -> list[type[DocumentExporter]]:
    return exporters_all(kind=KIND)


def documents_for(membership) -> list[type[DocumentExporter]]:
    return exporters_for(membership, kind=KIND)


@register
class Invoice(DocumentExporter):
    identifier = "invoice"
    name = "Invoice"
    plural = "Invoices"
    description = "What the customer owes: lines, discounts, tax per rate and the total due."
    order = 10
    template = "documents/invoice.html"
    days_after = 30
    days_label = "Due date"


@register
class DeliveryNote(DocumentExporter):
    identifier = "delivery_note"
    name = "Delivery note"
    plural = "Delivery notes"
    description = "What travels with the goods: quantities only, no prices."
    order = 20
    template = "documents/delivery_note.html"
    shows_prices = False


@register
class PickingList(DocumentExporter):
    identifier = "picking_list"
    name = "Picking list"
    plural = "Picking lists"
    description = "What the warehouse picks, grouped by location in walking order; no prices."
    order = 30
    template = "documents/picking_list.html"
    shows_prices = False


@register
class Quote(DocumentExporter):
    identifier = "quote"
    name = "Quote"
    plural = "Quotes"
    description = "An offer to the customer, valid for 30 days."
    order = 40
    template = "documents/quote.html"
    days_after = 30
    days_label = "Valid until"
