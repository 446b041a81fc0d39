"""REST API v1. Each view validates the request, makes one service call and answers JSON.

Imports, exports and reports go through the same services as the wizard and the export
builder; scoping and permission codes are the UI's (another organization's object is 404, a
missing permission 403).
"""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import scoped
from api import serializers as s
from api.exceptions import ApiError, PayloadTooLarge, TooManyImports, error_body
from api.filters import DataJobFilter, JobLogFilter
from api.pagination import Pagination
from api.parsers import StrictJSONParser
from api.permissions import membership_of, require_code
from api.services import (
    idempotency_key_of,
    job_file,
    job_start_idempotent,
    request_fingerprint,
)
from business.filters import filters_describe
from business.resources import registry, resource_get
from jobs.errors import FerryError, LimitExceeded
from jobs.models import DataJob
from jobs.selectors import job_controllable, job_files_allowed
from jobs.services import job_cancel
from jobs.uploads import upload_declared_check, upload_too_large_message
from library.models import DataTemplate
from library.selectors import templates_visible
from library.services import (
    TemplateError,
    TemplatePermissionError,
    template_create,
    template_delete,
    template_update,
)
from reports.exporters import export_create, export_start, exporter_get, exporters_for
from wizard.selectors import import_can_undo
from wizard.services import (
    import_configure,
    import_create,
    import_start,
    import_undo,
    import_undo_plan,
    job_delete_files,
)

ERRORS = {
    400: OpenApiResponse(s.ErrorSerializer, description="Invalid request"),
    401: OpenApiResponse(s.ErrorSerializer, description="Not authenticated"),
    403: OpenApiResponse(s.ErrorSerializer, description="Permission denied"),
    404: OpenApiResponse(s.ErrorSerializer, description="Not found"),
    409: OpenApiResponse(s.ErrorSerializer, description="Changed meanwhile: look again"),
    429: OpenApiResponse(s.ErrorSerializer, description="Too many requests (see Retry-After)"),
}


def errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in (401, 429, *codes)}


IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Retrying with the same key (per user, organization and endpoint, for 24 "
    "hours) returns the same job instead of starting another; a different body → 422.",
)
STARTED = {
    202: OpenApiResponse(s.DataJobSerializer, description="The job was queued."),
    **errors(400, 403, 404),
    422: OpenApiResponse(s.ErrorSerializer, description="Idempotency-Key reused for another body"),
}
FILE = {
    (200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The file"),
    **errors(403, 404),
}


@csrf_exempt
def not_found(request, *args, **kwargs) -> JsonResponse:
    return JsonResponse(error_body("Not found."), status=404)


def job_body(request, job: DataJob) -> dict:
    return s.DataJobSerializer(job, context={"request": request}).data


def _started(request, *, endpoint_key: str, fingerprint: str, start) -> Response:
    """Start a job (once per Idempotency-Key) and answer 202 with it."""

    def run():
        job = start()
        job.refresh_from_db()
        return status.HTTP_202_ACCEPTED, job_body(request, job), job

    result = job_start_idempotent(
        user=request.user,
        organization=request.organization,
        endpoint=endpoint_key,
        key=idempotency_key_of(request),
        fingerprint=fingerprint,
        start=run,
    )
    headers = {"Location": result.body.get("url", "")} if result.status == 202 else {}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(result.body, status=result.status, headers=headers)


# --- starting jobs -------------------------------------------------------------------------


class ResourceExportView(APIView):
    parser_classes = [StrictJSONParser]

    @extend_schema(
        operation_id="resource_export",
        summary="Export a resource",
        request=s.ExportRequestSerializer,
        parameters=[IDEMPOTENCY],
        responses=STARTED,
        tags=["exports"],
    )
    def post(self, request, resource: str):
        resource_cls = resource_get(resource)
        serializer = s.ExportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        exporter = exporter_get(resource_cls.name)
        exporter.permission_check(membership=membership_of(request), format=data["format"])
        template = None
        if "template" in data:
            template = _template_for_use(
                request, data["template"], resource_cls.name, DataTemplate.Type.EXPORT
            )

        def start() -> DataJob:
            job = export_create(
                organization=request.organization,
                user=request.user,
                exporter=exporter,
                format=data["format"],
                params={
                    "filters": data.get("filters"),
                    "columns": data.get("columns"),
                    "options": data.get("options"),
                },
                template=template,
            )
            export_start(job=job)
            return job

        return _started(
            request,
            endpoint_key=f"POST export {resource_cls.name}",
            fingerprint=request_fingerprint(data=request.data),
            start=start,
        )


class ResourceImportView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="resource_import",
        summary="Import a file into a resource",
        request={"multipart/form-data": s.ImportRequestSerializer},
        parameters=[IDEMPOTENCY],
        responses={
            **STARTED,
            413: OpenApiResponse(s.ErrorSerializer, description="The file is too large"),
        },
        tags=["imports"],
    )
    def post(self, request, resource: str):
        resource_cls = resource_get(resource)
        if not resource_cls.importable:
            raise PermissionDenied(f"{resource_cls.label} cannot be imported.")
        require_code(request, resource_cls.import_permission())
        limit = settings.FERRY["MAX_UPLOAD_BYTES"]
        # Refuse an oversize upload before Django spools it to disk.
        upload_declared_check(meta=request.META)
        serializer = s.ImportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        if upload.size > limit:
            raise PayloadTooLarge(_too_large(limit))
        template = None
        if "template" in data:
            template = _template_for_use(
                request, data["template"], resource_cls.name, DataTemplate.Type.IMPORT
            )

        def start() -> DataJob:
            job = import_create(
                organization=request.organization,
                user=request.user,
                resource=resource_cls.name,
                file=upload,
                filename=upload.name,
                read=serializer.read_options() or None,
            )
            try:
                import_configure(
                    job=job,
                    mapping=data.get("mapping"),
                    on_duplicate=data.get("on_duplicate"),
                    mode=data.get("mode"),
                    create_missing=data.get("create_missing"),
                    template=template,
                    dry_run=data.get("dry_run", False),
                    repeats=data.get("repeats"),
                    rounding=data.get("rounding"),
                    date_formats=data.get("date_formats"),
                )
                import_start(job=job)
            except BaseException as exc:
                # The job row rolls back with the transaction; its stored upload must go too.
                job_delete_files(job)
                if isinstance(exc, LimitExceeded):
                    # Here a limit means "too many imports running", not an oversize file.
                    raise TooManyImports(exc.message) from exc
                raise
            return job

        fields = {k: v for k, v in request.data.items() if k != "file"}
        return _started(
            request,
            endpoint_key=f"POST import {resource_cls.name}",
            fingerprint=request_fingerprint(data=fields, files={"file": upload}),
            start=start,
        )


def _too_large(limit: int) -> str:
    return upload_too_large_message(limit)


def _template_for_use(request, pk: int, resource: str, template_type: str) -> DataTemplate:
    """A template the user may use: shared or their own, of this organization, resource and type."""
    template = _templates_visible(request).filter(pk=pk).first()
    if template is None:
        raise s.serializers.ValidationError({"template": [f"No template with id {pk}."]})
    if template.resource != resource or template.template_type != template_type:
        raise s.serializers.ValidationError(
            {
                "template": [
                    f"Template '{template.name}' is a {template.template_type} template for "
                    f"{template.resource}, not a {template_type} template for {resource}."
                ]
            }
        )
    return template


class ReportListView(APIView):
    @extend_schema(
        operation_id="reports_list",
        summary="Ready-made reports you may run, with their parameters",
        responses={200: s.ReportSummarySerializer(many=True), **errors(403)},
        tags=["reports"],
    )
    def get(self, request):
        membership = membership_of(request)
        return Response(
            [
                s.report_describe(request, report, membership=membership)
                for report in exporters_for(membership, kind="report")
            ]
        )


class ReportExportView(APIView):
    parser_classes = [StrictJSONParser]

    @extend_schema(
        operation_id="report_export",
        summary="Run a ready-made report",
        request=s.ReportExportRequestSerializer,
        parameters=[IDEMPOTENCY],
        responses=STARTED,
        tags=["reports"],
    )
    def post(self, request, report: str):
        report_cls = exporter_get(report, kind="report")
        serializer = s.ReportExportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        params = dict(data.get("params") or {})
        # Parameters may also sit next to "format" instead of inside "params".
        params.update({k: v for k, v in request.data.items() if k not in ("format", "params")})

        def start() -> DataJob:
            job = export_create(
                organization=request.organization,
                user=request.user,
                exporter=report_cls,
                format=data["format"],
                params=params,
            )
            export_start(job=job)
            return job

        return _started(
            request,
            endpoint_key=f"POST report {report_cls.identifier}",
            fingerprint=request_fingerprint(data=request.data),
            start=start,
        )


# --- jobs ----------------------------------------------------------------------------------


def _may_see_files(request, job: DataJob) -> None:
    # The pages' rule (jobs.selectors): the job's permission code, or its starter or an admin.
    if not job_files_allowed(job=job, membership=membership_of(request)):
        raise PermissionDenied("You do not have the permission to see this job's files.")


@extend_schema(tags=["jobs"])
class DataJobViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.DataJobSerializer
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = DataJobFilter
    lookup_value_regex = r"[0-9]+"
    # Job ids are small integers; schema generation reads this to type the path parameter.
    queryset = DataJob.objects.none()

    def get_queryset(self):
        return scoped(DataJob, self.request.organization).select_related("user")

    @extend_schema(
        summary="Your organization's jobs",
        responses={200: s.DataJobSerializer(many=True), **errors(400, 403, 404)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="A job: status, progress, counts, timings and file links",
        responses={200: s.DataJobSerializer, **errors(403, 404)},
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="The job's row log",
        parameters=[
            OpenApiParameter("level", OpenApiTypes.STR, enum=["error", "warning", "info"]),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        filters=False,
        responses={200: s.JobLogEntrySerializer(many=True), **errors(400, 403, 404)},
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def log(self, request, pk=None):
        job = self.get_object()
        # The row log quotes cells of the uploaded file: it needs the same permission as the files.
        _may_see_files(request, job)
        entries = JobLogFilter(request.query_params, queryset=job.log_entries.all())
        if not entries.is_valid():
            raise s.serializers.ValidationError(entries.errors)
        page = self.paginate_queryset(entries.qs)
        return self.get_paginated_response(s.JobLogEntrySerializer(page, many=True).data)

    def _file(self, kind: str) -> FileResponse:
        job = self.get_object()
        _may_see_files(self.request, job)
        handle, filename = job_file(job=job, kind=kind)
        return FileResponse(handle, as_attachment=True, filename=filename)

    @extend_schema(summary="Download the job's output file", responses=FILE, filters=False)
    @action(detail=True, methods=["get"], filterset_class=None)
    def download(self, request, pk=None):
        return self._file("output")

    @extend_schema(summary="Download the uploaded file", responses=FILE, filters=False)
    @action(detail=True, methods=["get"], filterset_class=None)
    def input(self, request, pk=None):
        return self._file("input")

    @extend_schema(
        methods=["GET"],
        summary="Download the failed rows (row number, original columns, an error column)",
        responses=FILE,
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        summary="Import the fixed failed-rows file into this same import (multipart 'file')",
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
        responses={200: s.DataJobSerializer, **errors(400, 403, 404)},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="failed-rows",
        filterset_class=None,
        parser_classes=[MultiPartParser, FormParser],
    )
    def failed_rows(self, request, pk=None):
        if request.method == "GET":
            return self._file("failed-rows")
        from wizard.rerun import failed_rows_import

        job = self.get_object()
        if not job_controllable(job=job, membership=membership_of(request), user=request.user):
            raise PermissionDenied("Only the person who ran this import or an admin can add rows.")
        upload = request.FILES.get("file")
        if upload is None:
            raise ApiError("Send the fixed failed-rows file as multipart field 'file'.")
        try:
            result = failed_rows_import(
                job=job, file=upload, filename=upload.name, user=request.user
            )
        except FerryError as exc:
            raise ApiError(exc.message) from None
        job.refresh_from_db()
        return Response({**job_body(request, job), "rerun": result})

    @extend_schema(summary="Download any file of the job by kind", responses=FILE, filters=False)
    @action(
        detail=True,
        methods=["get"],
        url_path=r"files/(?P<kind>[A-Za-z0-9_-]+)",
        url_name="file",
        filterset_class=None,
    )
    def file(self, request, pk=None, kind: str = ""):
        return self._file(kind)

    @extend_schema(
        summary="Cancel the job (at once if not started; between batches if running)",
        request=None,
        responses={200: s.DataJobSerializer, **errors(403, 404)},
        filters=False,
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def cancel(self, request, pk=None):
        job = self.get_object()
        if not job_controllable(job=job, membership=membership_of(request), user=request.user):
            raise PermissionDenied("Only the person who started a job or an admin can cancel it.")
        job_cancel(job=job)
        job.refresh_from_db()
        return Response(job_body(request, job))

    @extend_schema(
        summary="Undo a completed import, or (GET) see what undoing it would do",
        description=(
            "GET returns the undo plan: how many records of each model undoing the import would "
            "delete (including what cascades remove), restore, clear a reference of, or leave "
            "alone, with the conflicts listed — the figures the web page and `undo_import` show. "
            "POST carries out exactly that plan; pass the plan's `digest` as `plan` to refuse "
            "(409) when the records changed since you looked. `force=true` also undoes the "
            "records left alone (GET: `?force=true` shows that plan)."
        ),
        methods=["GET"],
        parameters=[OpenApiParameter("force", OpenApiTypes.BOOL, required=False)],
        responses={200: s.UndoPlanSerializer, **errors(400, 403, 404)},
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        request=s.UndoRequestSerializer,
        responses={200: s.UndoResultSerializer, **errors(400, 403, 404, 409)},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filterset_class=None,
        parser_classes=[StrictJSONParser],
    )
    def undo(self, request, pk=None):
        job = self.get_object()
        if job.job_type != DataJob.Type.IMPORT:
            raise s.serializers.ValidationError({"job": ["Only an import can be undone."]})
        require_code(request, resource_get(job.target).import_permission())
        # The pages' rule (jobs.selectors): its starter or an admin, for the plan and the undo;
        # as on the page, an import with nothing (left) to undo says so first (a 400 below).
        may = job_controllable(job=job, membership=membership_of(request), user=request.user)
        if not may and import_can_undo(job=job):
            raise PermissionDenied("Only the person who ran this import or an admin can undo it.")
        if request.method == "GET":
            force = s.serializers.BooleanField().to_internal_value(
                request.query_params.get("force", "false")
            )
            return Response(import_undo_plan(job=job, force=force).as_dict())
        serializer = s.UndoRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = import_undo(
                job=job,
                user=request.user,
                force=serializer.validated_data["force"],
                expected=serializer.validated_data.get("plan") or None,
            )
        except FerryError as exc:
            if exc.code == "undo_plan_changed":
                raise ApiError(exc.message, status_code=409) from None
            raise
        job.refresh_from_db()
        return Response(
            {
                "deleted": result.deleted,
                "restored": result.restored,
                "conflicts": list(result.conflicts),
                "by_model": result.as_dict()["by_model"],
                "job": job_body(request, job),
            }
        )


# --- resources -----------------------------------------------------------------------------


def _resource_summary(request, resource) -> dict:
    membership = membership_of(request)
    described = resource.describe()
    return {
        "name": described["name"],
        "label": described["label"],
        "description": described["description"],
        "key": described["key"],
        "importable": described["importable"],
        "permissions": {
            "can_import": resource.importable and membership.has_perm(resource.import_permission()),
            "can_export": membership.has_perm(resource.export_permission()),
            "can_export_pdf": membership.has_perm(resource.export_pdf_permission()),
        },
        "url": request.build_absolute_uri(s.reverse("api:resource-detail", args=[resource.name])),
    }


@extend_schema(tags=["resources"])
class ResourceViewSet(viewsets.ViewSet):
    lookup_field = "name"
    lookup_value_regex = r"[a-z0-9-]+"

    @extend_schema(
        summary="What you can import and export",
        responses={200: s.ResourceSummarySerializer(many=True), **errors(403)},
    )
    def list(self, request):
        membership = membership_of(request)
        visible = [
            r
            for r in registry.all()
            if membership.has_perm(r.export_permission())
            or (r.importable and membership.has_perm(r.import_permission()))
        ]
        return Response([_resource_summary(request, r) for r in visible])

    @extend_schema(
        summary="A resource's fields and filters (to build a mapping or an export)",
        responses={200: s.ResourceDetailSerializer, **errors(403, 404)},
    )
    def retrieve(self, request, name: str):
        resource = resource_get(name)
        membership = membership_of(request)
        if not (
            membership.has_perm(resource.export_permission())
            or (resource.importable and membership.has_perm(resource.import_permission()))
        ):
            raise PermissionDenied(f"You may neither import nor export {resource.label}.")
        return Response(
            {
                **_resource_summary(request, resource),
                "fields": resource.describe()["fields"],
                "filters": filters_describe(resource),
            }
        )


# --- templates -----------------------------------------------------------------------------


def _templates_visible(request):
    return templates_visible(organization=request.organization, membership=membership_of(request))


@extend_schema(tags=["templates"])
@extend_schema_view(
    list=extend_schema(
        summary="Templates you can use",
        responses={200: s.DataTemplateSerializer(many=True), **errors(400, 403, 404)},
    ),
    retrieve=extend_schema(responses={200: s.DataTemplateSerializer, **errors(403, 404)}),
    create=extend_schema(responses={201: s.DataTemplateSerializer, **errors(400, 403)}),
    update=extend_schema(responses={200: s.DataTemplateSerializer, **errors(400, 403, 404)}),
    partial_update=extend_schema(
        responses={200: s.DataTemplateSerializer, **errors(400, 403, 404)}
    ),
    destroy=extend_schema(responses={204: None, **errors(403, 404)}),
)
class DataTemplateViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = s.DataTemplateSerializer
    pagination_class = Pagination
    parser_classes = [StrictJSONParser]
    lookup_value_regex = r"[0-9]+"
    queryset = DataTemplate.objects.none()

    def get_queryset(self):
        return _templates_visible(self.request)

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "organization": self.request.organization,
        }

    def _call(self, action):
        # The library's services decide (same rules as the pages); their refusals become the
        # API's answers: a refusal tied to an input is a 400 naming it, a right one lacks a 403.
        try:
            return action()
        except TemplateError as exc:
            if exc.field:
                raise s.serializers.ValidationError({exc.field: [exc.message]}) from exc
            if isinstance(exc, TemplatePermissionError):
                raise PermissionDenied(exc.message) from exc
            raise s.serializers.ValidationError({"detail": [exc.message]}) from exc

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = self._call(
            lambda: template_create(
                organization=self.request.organization,
                membership=membership_of(self.request),
                **data,
            )
        )

    def perform_update(self, serializer):
        template = serializer.instance
        changes = dict(serializer.validated_data)
        template_type = changes.pop("template_type", template.template_type)
        if template_type != template.template_type:
            raise s.serializers.ValidationError(
                {"type": ["A template's type cannot change. Create a new template instead."]}
            )
        self._call(
            lambda: template_update(
                template=template, membership=membership_of(self.request), **changes
            )
        )

    def perform_destroy(self, instance):
        self._call(
            lambda: template_delete(template=instance, membership=membership_of(self.request))
        )
