"""Exporting a resource and running a ready-made report: each starts a job (202)."""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework.response import Response
from rest_framework.views import APIView

from api.parsers import StrictJSONParser
from api.permissions import membership_of
from api.serializers.exports import (
    ExportRequestSerializer,
    ReportExportRequestSerializer,
    ReportSummarySerializer,
    report_describe,
)
from api.services import (
    request_fingerprint,
)
from api.views.common import IDEMPOTENCY, STARTED, errors, job_started
from api.views.templates import template_for_use
from business.resources import resource_get
from jobs.models import DataJob
from library.models import DataTemplate
from reports.exporters import export_create, export_start, exporter_get, exporters_for


class ResourceExportView(APIView):
    parser_classes = [StrictJSONParser]

    @extend_schema(
        operation_id="resource_export",
        summary="Export a resource",
        request=ExportRequestSerializer,
        parameters=[IDEMPOTENCY],
        responses=STARTED,
        tags=["exports"],
    )
    def post(self, request, resource: str):
        resource_cls = resource_get(resource)
        serializer = ExportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        exporter = exporter_get(resource_cls.name)
        exporter.permission_check(membership=membership_of(request), format=data["format"])
        template = template_for_use(
            request, data.get("template"), resource_cls.name, DataTemplate.Type.EXPORT
        )
        params = {
            "filters": data.get("filters"),
            "columns": data.get("columns"),
            "options": data.get("options"),
        }
        return _export_started(
            request,
            exporter=exporter,
            format=data["format"],
            params=params,
            template=template,
            endpoint_key=f"POST export {resource_cls.name}",
        )


class ReportListView(APIView):
    @extend_schema(
        operation_id="reports_list",
        summary="Ready-made reports you may run, with their parameters",
        responses={200: ReportSummarySerializer(many=True), **errors(403)},
        tags=["reports"],
    )
    def get(self, request):
        membership = membership_of(request)
        return Response(
            [
                report_describe(request, report, membership=membership)
                for report in exporters_for(membership, kind="report")
            ]
        )


class ReportExportView(APIView):
    parser_classes = [StrictJSONParser]

    @extend_schema(
        operation_id="report_export",
        summary="Run a ready-made report",
        request=ReportExportRequestSerializer,
        parameters=[IDEMPOTENCY],
        responses=STARTED,
        tags=["reports"],
    )
    def post(self, request, report: str):
        report_cls = exporter_get(report, kind="report")
        serializer = ReportExportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        params = dict(data.get("params") or {})
        # Parameters may also sit next to "format" instead of inside "params".
        params.update({k: v for k, v in request.data.items() if k not in ("format", "params")})

        return _export_started(
            request,
            exporter=report_cls,
            format=data["format"],
            params=params,
            endpoint_key=f"POST report {report_cls.identifier}",
        )


def _export_started(
    request, *, exporter, format: str, params: dict, endpoint_key: str, template=None
) -> Response:
    """A resource export and a report start the same way: create the exporter's job, queue it."""

    def start() -> DataJob:
        job = export_create(
            organization=request.organization,
            user=request.user,
            exporter=exporter,
            format=format,
            params=params,
            template=template,
        )
        export_start(job=job)
        return job

    return job_started(
        request,
        endpoint_key=endpoint_key,
        fingerprint=request_fingerprint(data=request.data),
        start=start,
    )
