"""Render documents: one order in-process, many in parallel worker processes.

Templates are ordinary Django templates in ``templates/documents/`` so an organization's
designer can change them; they are loaded through a debug-enabled engine so that a broken
template fails with its file name and line (``DocumentTemplateError``), never with a half-written
file. Batches write into a temporary folder and move the finished ZIP or merged PDF into place
only once every order rendered.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template import Context, Engine, TemplateDoesNotExist, TemplateSyntaxError
from pypdf import PdfWriter

from accounts.services import organization_logo_data_uri
from business.writers import pdf_worker
from business.writers.pdf import RenderPool, default_workers
from jobs.errors import FerryError
from jobs.models import DataJob
from reports.documents.kinds import DocumentExporter
from reports.documents.selectors import (
    MAX_BATCH_ORDERS,
    NO_LOCATION,
    DocumentBatchTooLarge,
    OrderDocument,
    documents_iter,
    documents_orders,
    order_document,
)
from reports.exporters.services import export_audit, export_create, export_start

MODES = ("zip", "merged")
# Orders per WeasyPrint layout: per order, CPU falls steeply up to a few dozen and little after;
# memory grows with the pages (bench/bench_documents.py).
CHUNK_ORDERS = 40
# Chunks in flight per worker process: enough to keep each busy, few enough to bound memory.
QUEUE_PER_WORKER = 2


class DocumentTemplateError(FerryError):
    """A document template that does not compile or render; names the file and line."""

    def __init__(self, message: str):
        super().__init__(message, code="template")


class NoOrders(FerryError):
    def __init__(self):
        super().__init__("No orders match: there is nothing to print.", code="empty")


@cache
def _engine() -> Engine:
    # Its own engine, with debug on, only so template errors carry their line number.
    dirs = [d for t in settings.TEMPLATES for d in t.get("DIRS", [])]
    return Engine(
        dirs=dirs,
        app_dirs=True,
        debug=True,
        libraries={"documents": "reports.templatetags.documents"},
    )


def _template_error(exc: Exception, name: str) -> DocumentTemplateError:
    info = getattr(exc, "template_debug", None)
    where = name
    if info:
        # The origin is an absolute path; a designer knows it from templates/ on.
        origin = str(info.get("name") or name).replace(os.sep, "/")
        where = f"{origin.rsplit('/templates/', 1)[-1]}, line {info.get('line')}"
    return DocumentTemplateError(f"The document template {where} has an error: {exc}")


def document_template(document: type[DocumentExporter]):
    try:
        return _engine().get_template(document.template)
    except TemplateSyntaxError as exc:
        raise _template_error(exc, document.template) from exc
    except TemplateDoesNotExist as exc:
        raise DocumentTemplateError(
            f"The document template {document.template} is missing ({exc})."
        ) from exc


def documents_html(*, organization, docs: list[OrderDocument], template, logo: str | None) -> str:
    """One HTML document holding the documents of ``docs`` (one section each, see base.html)."""
    first = docs[0]
    context = Context(
        {
            "organization": organization,
            "logo": logo,
            "docs": docs,
            "document": first.document,
            "no_location": NO_LOCATION,
            "lang": (organization.locale or "en").split("-")[0],
        }
    )
    try:
        return template.render(context)
    except Exception as exc:  # a designer's template may fail in any tag or filter
        raise _template_error(exc, first.document.template) from exc


def document_render(*, organization, order, document: type[DocumentExporter]) -> bytes:
    """One order's document as PDF bytes, rendered in this process (a page view, the API)."""
    template = document_template(document)
    doc = order_document(
        order=order,
        document=document,
        currency=organization.currency,
        locations=_single_locations(organization=organization, order=order, document=document),
    )
    html = documents_html(
        organization=organization,
        docs=[doc],
        template=template,
        logo=organization_logo_data_uri(organization=organization),
    )
    with tempfile.TemporaryDirectory(prefix="ferry-doc-") as tmp:
        path = os.path.join(tmp, "document.pdf")
        pdf_worker.render_sections(html, path)
        return Path(path).read_bytes()


def _single_locations(*, organization, order, document):
    if document.identifier != "picking_list":
        return None
    from reports.documents.selectors import _locations

    return _locations(organization=organization, orders=[order])


@dataclass
class BatchResult:
    orders: int
    pages: int
    mode: str

    def as_summary(self) -> dict[str, Any]:
        return {"orders": self.orders, "pages": self.pages, "mode": self.mode}


@dataclass
class _Chunk:
    """Orders rendered by one WeasyPrint layout: their file names, and where the PDF goes."""

    names: list[str]
    pdf_path: str
    future: Any = None
    counts: list[int] | None = None

    def settle(self) -> None:
        if self.future is not None:
            self.future.result()  # a worker's error fails the batch here
        with open(f"{self.pdf_path}.json", encoding="utf-8") as fh:
            self.counts = json.load(fh)
        if len(self.counts) != len(self.names):
            raise DocumentTemplateError(
                f"The document template printed {len(self.counts)} documents for "
                f'{len(self.names)} orders: keep one <section id="ferry-section-…"> per order '
                "(documents/base.html)."
            )


def _chunks(docs: Iterator[OrderDocument], size: int) -> Iterator[list[OrderDocument]]:
    chunk: list[OrderDocument] = []
    for doc in docs:
        chunk.append(doc)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def documents_batch_render(
    *,
    organization,
    orders,
    document: type[DocumentExporter],
    mode: str,
    path: str | os.PathLike,
    progress,
    workers: int | None = None,
    chunk_orders: int | None = None,
) -> BatchResult:
    """Render every order's document in worker processes; write a ZIP (one PDF per order, named
    by order number) or one merged PDF to ``path`` — only once all of them rendered.

    ``chunk_orders`` orders share one WeasyPrint layout (one HTML document, a section per order,
    each starting a page): most of WeasyPrint's cost per document is fixed (style matching set-up,
    fonts, PDF and font-subset writing), so this is several times cheaper than one layout per
    order. The worker numbers pages per order and, for a ZIP, splits the PDF per order.
    """
    if mode not in MODES:
        raise FerryError(f"Unknown mode '{mode}'. Choose one of: {', '.join(MODES)}.")
    total = orders.count()
    if total == 0:
        raise NoOrders()
    if total > MAX_BATCH_ORDERS:
        raise DocumentBatchTooLarge(total)
    # Compile before any work so a broken template fails at once, naming its line.
    template = document_template(document)
    logo = organization_logo_data_uri(organization=organization)
    progress.set_total(total)
    workers = workers or default_workers()
    size = chunk_orders or CHUNK_ORDERS
    # Small batches share out between the workers rather than filling one chunk.
    size = max(1, min(size, -(-total // workers)))
    split = "split" if mode == "zip" else ""
    tmp = tempfile.mkdtemp(prefix="ferry-docs-")
    pool: RenderPool | None = None
    done: list[_Chunk] = []
    pending: deque[_Chunk] = deque()
    processed = 0
    try:

        def settle_one() -> None:
            nonlocal processed
            chunk = pending.popleft()
            chunk.settle()
            done.append(chunk)
            processed += len(chunk.names)
            progress.update(processed=processed, succeeded=processed)

        docs = documents_iter(organization=organization, orders=orders, document=document)
        for index, chunk_docs in enumerate(_chunks(docs, size)):
            html = documents_html(
                organization=organization, docs=chunk_docs, template=template, logo=logo
            )
            chunk = _Chunk(
                names=[document.filename(doc.order.number) for doc in chunk_docs],
                pdf_path=os.path.join(tmp, f"{index:05d}.pdf"),
            )
            if total <= size:
                # One chunk renders here: starting a worker would cost more than it saves.
                pdf_worker.render_sections(html, chunk.pdf_path, split=bool(split))
            else:
                pool = pool or RenderPool(workers)
                html_path = os.path.join(tmp, f"{index:05d}.html")
                with open(html_path, "w", encoding="utf-8") as fh:
                    fh.write(html)
                # The worker's line protocol is tab-separated: the flags follow the PDF path.
                chunk.future = pool.submit(html_path, f"{chunk.pdf_path}\tsections {split}")
            pending.append(chunk)
            while len(pending) > workers * QUEUE_PER_WORKER:
                settle_one()
                progress.check_cancel()
        while pending:
            settle_one()
        if pool is not None:
            pool.close()
        out = os.path.join(tmp, "out")
        pages = _assemble(done, mode=mode, out=out, title=document.plural)
        shutil.move(out, os.fspath(path))
    finally:
        if pool is not None:
            pool.close()
        shutil.rmtree(tmp, ignore_errors=True)
    progress.update(processed=processed, succeeded=processed, force=True)
    return BatchResult(orders=processed, pages=pages, mode=mode)


def _assemble(chunks: Iterable[_Chunk], *, mode: str, out: str, title: str) -> int:
    pages = 0
    if mode == "zip":
        # PDFs are compressed already; storing them keeps the ZIP fast to write and open.
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
            for chunk in chunks:
                for index, name in enumerate(chunk.names):
                    archive.write(f"{chunk.pdf_path}.{index}.pdf", arcname=name)
                pages += sum(chunk.counts)
        return pages
    writer = PdfWriter()
    for chunk in chunks:
        start = len(writer.pages)
        writer.append(chunk.pdf_path)
        # A bookmark per order, at its first page.
        for name, count in zip(chunk.names, chunk.counts, strict=True):
            writer.add_outline_item(title=name.removesuffix(".pdf"), page_number=start)
            start += count
    writer.add_metadata({"/Title": title, "/Producer": "Ferry"})
    with open(out, "wb") as fh:
        writer.write(fh)
    return len(writer.pages)


def documents_none_write(*, document: type[DocumentExporter], format: str, path) -> None:
    """The file of a run that found no orders: an empty ZIP, or one page saying so."""
    if format == "zip":
        with zipfile.ZipFile(path, "w"):
            return
    pdf_worker.render_html(
        f"<html><body><h1>{document.plural}</h1><p>No orders match.</p></body></html>", str(path)
    )


def documents_count_check(*, organization, params: Mapping[str, Any]) -> None:
    """Refuse before queueing a batch with no order, or with more than a batch may print."""
    count = documents_orders(organization=organization, **params).count()
    if count == 0:
        raise NoOrders()
    if count > MAX_BATCH_ORDERS:
        raise DocumentBatchTooLarge(count)


# --- through the exporters' one service path ------------------------------------------------


def documents_batch_start(
    *, organization, user, document: type[DocumentExporter], format: str, params: dict
) -> DataJob:
    """Queue a batch as an export job (``export_create`` checks the permission, the
    parameters and the count; ``export_run`` renders, stores and audits in the worker)."""
    with transaction.atomic():
        job = export_create(
            organization=organization, user=user, exporter=document, format=format, params=params
        )
        export_start(job=job)
    return job


def document_print(*, organization, user, membership, order, document, via: str) -> bytes:
    """One order's PDF for a person (page or API): the permission, the PDF, one audit event."""
    document.permission_check(membership=membership, format="pdf")
    content = document_render(organization=organization, order=order, document=document)
    export_audit(
        organization=organization,
        user=user,
        exporter=document,
        format="pdf",
        params={"ids": [order.pk], "order": order.number},
        rows=1,
        via=via,
    )
    return content
