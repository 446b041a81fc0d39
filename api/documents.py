"""Sales-order documents over the API: one order's PDF at once, or a batch as a job.

``POST /api/v1/sales-orders/{id}/documents/{kind}/`` answers with the PDF;
``POST /api/v1/sales-orders/documents/{kind}/`` queues a batch (ZIP of one PDF per order, or
one merged PDF) for the orders given by ``ids`` or ``filters`` and answers 202 with the job.
Both call the services the pages call; permissions are the same ``can_print_<kind>`` codes.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from api.parsers import StrictJSONParser
from api.services import request_fingerprint
from api.views.common import IDEMPOTENCY, STARTED, errors, job_started
from reports.documents.download import document_serve
from reports.documents.kinds import MODES, document_get, documents_all
from reports.documents.services import documents_batch_start

KINDS = ", ".join(d.identifier for d in documents_all())


class DocumentBatchRequestSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(
        choices=list(MODES.values()),
        default="zip",
        help_text="zip: one PDF per order; merged: one PDF.",
    )
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_empty=False,
        help_text="Order ids; without them, every order the filters match.",
    )
    filters = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text='Sales-order filters as on the records page, e.g. {"status": "invoiced"}.',
    )


PDF = {
    (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF"),
    **errors(403, 404),
}


class OrderDocumentView(APIView):
    @extend_schema(
        operation_id="sales_order_document",
        summary="Print one sales order's document as PDF",
        description=f"Document kinds: {KINDS}. Needs can_print_<kind>.",
        request=None,
        responses=PDF,
        tags=["documents"],
    )
    def post(self, request, pk: int, kind: str):
        return document_serve(
            membership=request.membership,
            pk=pk,
            kind=kind,
            via="api",
        )


class OrderDocumentsBatchView(APIView):
    parser_classes = [StrictJSONParser]

    @extend_schema(
        operation_id="sales_order_documents_batch",
        summary="Print the documents of many sales orders (a background job)",
        description=f"Document kinds: {KINDS}. The job's output is a ZIP or one merged PDF.",
        request=DocumentBatchRequestSerializer,
        parameters=[IDEMPOTENCY],
        responses=STARTED,
        tags=["documents"],
    )
    def post(self, request, kind: str):
        document = document_get(kind)
        serializer = DocumentBatchRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        formats = {mode: fmt for fmt, mode in MODES.items()}

        def start():
            return documents_batch_start(
                organization=request.organization,
                user=request.user,
                document=document,
                format=formats[data["mode"]],
                params={"ids": data.get("ids"), "filters": data.get("filters") or {}},
            )

        return job_started(
            request,
            endpoint_key=f"POST documents {document.identifier}",
            fingerprint=request_fingerprint(data=request.data),
            start=start,
        )
