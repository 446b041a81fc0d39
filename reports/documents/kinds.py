"""The document kinds: a small registry of classes, like the exporters (one per printed paper).

A kind says which template prints it, which permission code it needs and what it shows; the
arithmetic is the same for all of them (``selectors.order_document``).
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from accounts.permissions import print_code
from jobs.errors import FerryError


class UnknownDocumentKind(FerryError):
    def __init__(self, kind: str):
        known = ", ".join(DOCUMENTS)
        super().__init__(f"Unknown document '{kind}'. Known documents: {known}.", code="not_found")


class Document:
    identifier: ClassVar[str]
    name: ClassVar[str]
    # Printed as the page's title and in file names.
    title: ClassVar[str]
    template: ClassVar[str]
    shows_prices: ClassVar[bool] = True
    # Days after the order date printed as the due date (invoice) or "valid until" (quote).
    days_after: ClassVar[int | None] = None
    days_label: ClassVar[str] = ""

    @classmethod
    def permission(cls) -> str:
        return print_code(cls.identifier)

    @classmethod
    def may_print(cls, membership) -> bool:
        return membership is not None and membership.has_perm(cls.permission())

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


DOCUMENTS: dict[str, type[Document]] = {}


def document_register(cls: type[Document]) -> type[Document]:
    DOCUMENTS[cls.identifier] = cls
    return cls


def document_get(kind: str) -> type[Document]:
    key = (kind or "").strip().lower().replace("-", "_")
    try:
        return DOCUMENTS[key]
    except KeyError:
        raise UnknownDocumentKind(kind) from None


def documents_for(membership) -> list[type[Document]]:
    return [d for d in DOCUMENTS.values() if d.may_print(membership)]


@document_register
class Invoice(Document):
    identifier = "invoice"
    name = "Invoice"
    title = "Invoice"
    template = "documents/invoice.html"
    days_after = 30
    days_label = "Due date"


@document_register
class DeliveryNote(Document):
    identifier = "delivery_note"
    name = "Delivery note"
    title = "Delivery note"
    template = "documents/delivery_note.html"
    shows_prices = False


@document_register
class PickingList(Document):
    identifier = "picking_list"
    name = "Picking list"
    title = "Picking list"
    template = "documents/picking_list.html"
    shows_prices = False


@document_register
class Quote(Document):
    identifier = "quote"
    name = "Quote"
    title = "Quote"
    template = "documents/quote.html"
    days_after = 30
    days_label = "Valid until"
