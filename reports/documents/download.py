"""One order's document as a file answer: the records page and the API both serve it from here,
so the permission check, the audit record (in ``document_print``) and the headers are the same.
"""

from __future__ import annotations

from django.http import HttpResponse

from reports.documents.kinds import document_get
from reports.documents.selectors import document_order_get
from reports.documents.services import document_print


def pdf_response(*, content: bytes, filename: str, inline: bool = False) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    # A browser must not guess another type for a file built from the organization's data.
    response["X-Content-Type-Options"] = "nosniff"
    return response


def document_serve(
    *, membership, pk: int, kind: str, via: str, inline: bool = False
) -> HttpResponse:
    """Render one order's document for the member (404 for another organization's order;
    UnknownExporter for an unknown kind) and answer with the PDF, an attachment unless
    ``inline``."""
    organization = membership.organization
    document = document_get(kind)
    order = document_order_get(organization=organization, pk=pk)
    content = document_print(
        organization=organization,
        user=membership.user,
        membership=membership,
        order=order,
        document=document,
        via=via,
    )
    return pdf_response(content=content, filename=document.filename(order.number), inline=inline)
