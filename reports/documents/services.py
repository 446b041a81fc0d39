"""Render documents: one order in-process, many in parallel worker processes.

Templates are ordinary Django templates in ``templates/documents/`` so an organization's
designer can change them; they are loaded through a debug-enabled engine so that a broken
template fails with its file name and line (``DocumentTemplateError``), never with a half-written
file. Batches write into a temporary folder and move the finished ZIP or merged PDF into place
only once every order rendered.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template import Context, Engine, TemplateDoesNotExist, TemplateSyntaxError
from pypdf import PdfReader, PdfWriter

from accounts.models import Membership
from accounts.services import organization_logo_data_uri
from business.audit import audit_record
from business.models import AuditEvent
from business.writers import pdf_worker
from business.writers.pdf import RenderPool, default_workers
from jobs.errors import FerryError
from jobs.models import DataJob
from jobs.services import job_create, job_queue, job_save_output
from reports.documents.kinds import Document, document_get
from reports.documents.selectors import (
    MAX_BATCH_ORDERS,
    NO_LOCATION,
    DocumentBatchTooLarge,
    OrderDocument,
    documents_iter,
    documents_orders,
    order_document,
)

MODES = ("zip", "merged")
# Orders in flight per worker process: enough to keep each busy, few enough to bound memory.
QUEUE_PER_WORKER = 4


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


def document_template(document: type[Document]):
    try:
        return _engine().get_template(document.template)
    except TemplateSyntaxError as exc:
        raise _template_error(exc, document.template) from exc
    except TemplateDoesNotExist as exc:
        raise DocumentTemplateError(
            f"The document template {document.template} is missing ({exc})."
        ) from exc


def document_html(*, organization, doc: OrderDocument, template, logo: str | None) -> str:
    """The HTML of one order's document (the organization's name, address and formats)."""
    context = Context(
        {
            "organization": organization,
            "logo": logo,
            "order": doc.order,
            "customer": doc.order.customer,
            "document": doc.document,
            "doc": doc,
            "no_location": NO_LOCATION,
            "lang": (organization.locale or "en").split("-")[0],
        }
    )
    try:
        return template.render(context)
    except Exception as exc:  # a designer's template may fail in any tag or filter
        raise _template_error(exc, doc.document.template) from exc


def document_render(*, organization, order, document: type[Document]) -> bytes:
    """One order's document as PDF bytes, rendered in this process (a page view, the API)."""
    template = document_template(document)
    doc = order_document(
        order=order,
        document=document,
        currency=organization.currency,
        locations=_single_locations(organization=organization, order=order, document=document),
    )
    html = document_html(
        organization=organization,
        doc=doc,
        template=template,
        logo=organization_logo_data_uri(organization=organization),
    )
    with tempfile.TemporaryDirectory(prefix="ferry-doc-") as tmp:
        path = os.path.join(tmp, "document.pdf")
        pdf_worker.render_html(html, path)
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
    filename: str

    def as_summary(self) -> dict[str, Any]:
        return {"orders": self.orders, "pages": self.pages, "mode": self.mode}


def documents_batch_filename(*, document: type[Document], organization, mode: str) -> str:
    stem = f"{document.identifier.replace('_', '-')}s-{organization.slug}"
    return f"{stem}.zip" if mode == "zip" else f"{stem}.pdf"


def documents_batch_render(
    *,
    organization,
    orders,
    document: type[Document],
    mode: str,
    path: str | os.PathLike,
    progress,
    workers: int | None = None,
) -> BatchResult:
    """Render every order's document in worker processes; write a ZIP (one PDF per order, named
    by order number) or one merged PDF to ``path`` — only once all of them rendered."""
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
    tmp = tempfile.mkdtemp(prefix="ferry-docs-")
    pool = RenderPool(workers)
    done: list[tuple[str, str]] = []  # (file name in the ZIP, rendered PDF path)
    pending: deque = deque()
    try:

        def settle_one() -> None:
            name, future, pdf_path = pending.popleft()
            future.result()  # a worker's error fails the batch here
            done.append((name, pdf_path))
            progress.update(processed=len(done), succeeded=len(done))

        for index, doc in enumerate(
            documents_iter(organization=organization, orders=orders, document=document)
        ):
            html = document_html(organization=organization, doc=doc, template=template, logo=logo)
            html_path = os.path.join(tmp, f"{index:06d}.html")
            pdf_path = os.path.join(tmp, f"{index:06d}.pdf")
            with open(html_path, "w", encoding="utf-8") as fh:
                fh.write(html)
            pending.append(
                (document.filename(doc.order.number), pool.submit(html_path, pdf_path), pdf_path)
            )
            while len(pending) > workers * QUEUE_PER_WORKER:
                settle_one()
                progress.check_cancel()
        while pending:
            settle_one()
        pool.close()
        out = os.path.join(tmp, "out")
        pages = _assemble(done, mode=mode, out=out, title=f"{document.name}s")
        shutil.move(out, os.fspath(path))
    finally:
        pool.close()
        shutil.rmtree(tmp, ignore_errors=True)
    progress.update(processed=len(done), succeeded=len(done), force=True)
    return BatchResult(
        orders=len(done),
        pages=pages,
        mode=mode,
        filename=documents_batch_filename(document=document, organization=organization, mode=mode),
    )


def _assemble(files: Iterable[tuple[str, str]], *, mode: str, out: str, title: str) -> int:
    pages = 0
    if mode == "zip":
        # PDFs are compressed already; storing them keeps the ZIP fast to write and open.
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
            for name, pdf_path in files:
                pages += len(PdfReader(pdf_path).pages)
                archive.write(pdf_path, arcname=name)
        return pages
    writer = PdfWriter()
    for name, pdf_path in files:
        start = len(writer.pages)
        writer.append(pdf_path)
        writer.add_outline_item(name.removesuffix(".pdf"), start)
    writer.add_metadata({"/Title": title, "/Producer": "Ferry"})
    with open(out, "wb") as fh:
        writer.write(fh)
    return len(writer.pages)


def documents_params_clean(params: Mapping[str, Any]) -> dict[str, Any]:
    """Job parameters: the kind, the mode and either a selection of ids or filters."""
    mode = str(params.get("mode") or "zip")
    if mode not in MODES:
        raise FerryError(f"Unknown mode '{mode}'. Choose one of: {', '.join(MODES)}.")
    ids = params.get("ids")
    if ids is not None:
        try:
            ids = sorted({int(i) for i in ids})
        except (TypeError, ValueError) as exc:
            raise FerryError("Order ids must be whole numbers.", code="invalid") from exc
    filters = {str(k): v for k, v in dict(params.get("filters") or {}).items()}
    return {"mode": mode, "ids": ids, "filters": filters}


# --- batches as background jobs --------------------------------------------------------------


class DocumentPermissionDenied(PermissionDenied):
    def __init__(self, document: type[Document]):
        message = (
            f"You do not have the permission to print the {document.name.lower()} "
            f"({document.permission()})."
        )
        super().__init__(message)
        self.message = message


def document_permission_check(*, membership, document: type[Document]) -> None:
    if not document.may_print(membership):
        raise DocumentPermissionDenied(document)


def documents_batch_create(
    *,
    organization,
    user,
    membership,
    document: type[Document],
    mode: str,
    ids: Iterable[int] | None = None,
    filters: Mapping[str, Any] | None = None,
) -> DataJob:
    """Check the permission and the selection, then queue a batch job (after commit)."""
    document_permission_check(membership=membership, document=document)
    params = documents_params_clean(
        {"mode": mode, "ids": list(ids) if ids is not None else None, "filters": filters}
    )
    orders = documents_orders(
        organization=organization, ids=params["ids"], filters=params["filters"]
    )
    count = orders.count()
    if count == 0:
        raise NoOrders()
    if count > MAX_BATCH_ORDERS:
        raise DocumentBatchTooLarge(count)
    from reports.documents.tasks import documents_task

    with transaction.atomic():
        job = job_create(
            organization=organization,
            user=user,
            job_type=DataJob.Type.EXPORT,
            target=document.identifier,
            format="zip" if params["mode"] == "zip" else "pdf",
            # The job's files need the same code as printing one (jobs.selectors).
            params={**params, "document": document.identifier, "permission": document.permission()},
        )
        job.total = count
        DataJob.objects.filter(pk=job.pk).update(total=count)
        job_queue(job=job, task=documents_task)
    return job


def documents_batch_run(*, job: DataJob, progress) -> dict[str, Any]:
    """The task body: check the permission again (the owner's, now), render, store, audit."""
    document = document_get(job.params.get("document") or job.target)
    membership = (
        Membership.objects.filter(user_id=job.user_id, organization_id=job.organization_id).first()
        if job.user_id
        else None
    )
    if not document.may_print(membership):
        raise FerryError(
            f"The job's owner may no longer print the {document.name.lower()} "
            f"({document.permission()}).",
            code="forbidden",
        )
    organization = job.organization
    orders = documents_orders(
        organization=organization, ids=job.params.get("ids"), filters=job.params.get("filters")
    )
    tmp = tempfile.mkdtemp(prefix="ferry-docs-out-")
    try:
        path = os.path.join(tmp, "result")
        result = documents_batch_render(
            organization=organization,
            orders=orders,
            document=document,
            mode=job.params.get("mode", "zip"),
            path=path,
            progress=progress,
        )
        job_save_output(job=job, path_or_file=path, filename=result.filename)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    documents_audit(
        organization=organization,
        user=job.user,
        document=document,
        result=result,
        details={"job": job.pk, "ids": job.params.get("ids"), "filters": job.params.get("filters")},
    )
    return result.as_summary()


def documents_audit(
    *, organization, user, document, result: BatchResult, details=None, request=None
):
    """One audit event per printed batch (or single document)."""
    return audit_record(
        organization=organization,
        event_type=AuditEvent.Type.EXPORT,
        user=user,
        object_type="document",
        object_id=document.identifier,
        object_repr=f"{document.name}s: {result.orders} order{'s' if result.orders != 1 else ''}",
        details={**(details or {}), **result.as_summary(), "document": document.identifier},
        request=request,
    )
