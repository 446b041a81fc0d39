"""The organization's jobs: status, row log, files, cancel, undo, and the fixed failed rows."""

from __future__ import annotations

from django.http import FileResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts.scoping import scoped
from api.exceptions import ApiError
from api.filters import DataJobFilter, JobLogFilter
from api.pagination import Pagination
from api.parsers import StrictJSONParser
from api.permissions import membership_of, require_code
from api.serializers.jobs import (
    DataJobSerializer,
    JobLogEntrySerializer,
    UndoPlanSerializer,
    UndoRequestSerializer,
    UndoResultSerializer,
)
from api.services import (
    job_file,
)
from api.views.common import FILE, errors, job_body
from business.resources import resource_get
from jobs.errors import FerryError
from jobs.models import DataJob
from jobs.selectors import job_controllable, job_files_allowed
from jobs.services import job_cancel
from wizard.selectors import import_can_undo
from wizard.services import (
    import_undo,
    import_undo_plan,
)


def _may_see_files(request, job: DataJob) -> None:
    # The pages' rule (jobs.selectors): the job's permission code, or its starter or an admin.
    if not job_files_allowed(job=job, membership=membership_of(request)):
        raise PermissionDenied("You do not have the permission to see this job's files.")


@extend_schema(tags=["jobs"])
class DataJobViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DataJobSerializer
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
        responses={200: DataJobSerializer(many=True), **errors(400, 403, 404)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="A job: status, progress, counts, timings and file links",
        responses={200: DataJobSerializer, **errors(403, 404)},
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
        responses={200: JobLogEntrySerializer(many=True), **errors(400, 403, 404)},
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def log(self, request, pk=None):
        job = self.get_object()
        # The row log quotes cells of the uploaded file: it needs the same permission as the files.
        _may_see_files(request, job)
        entries = JobLogFilter(request.query_params, queryset=job.log_entries.all())
        if not entries.is_valid():
            raise serializers.ValidationError(entries.errors)
        page = self.paginate_queryset(entries.qs)
        return self.get_paginated_response(JobLogEntrySerializer(page, many=True).data)

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
        description=(
            "The file is checked at once (400 when its rows are not this import's failed rows) "
            "and its rows are imported by a worker: the answer is 202 with that pass's job. "
            "When it has completed, this import's counts, row log and undo include the rows."
        ),
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                # Without the file the answer is a 400; a body that is not multipart, a 415.
                "required": ["file"],
            }
        },
        responses={202: DataJobSerializer, **errors(400, 403, 404)},
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
        from wizard.rerun import failed_rows_start

        job = self.get_object()
        if not job_controllable(job=job, membership=membership_of(request), user=request.user):
            raise PermissionDenied("Only the person who ran this import or an admin can add rows.")
        upload = request.FILES.get("file")
        if upload is None:
            raise ApiError("Send the fixed failed-rows file as multipart field 'file'.")
        try:
            run = failed_rows_start(job=job, file=upload, filename=upload.name, user=request.user)
        except FerryError as exc:
            raise ApiError(exc.message) from None
        run.refresh_from_db()
        return Response(job_body(request, run), status=202)

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
        responses={200: DataJobSerializer, **errors(403, 404)},
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
        responses={200: UndoPlanSerializer, **errors(400, 403, 404)},
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        request=UndoRequestSerializer,
        responses={200: UndoResultSerializer, **errors(400, 403, 404, 409)},
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
            raise serializers.ValidationError({"job": ["Only an import can be undone."]})
        require_code(request, resource_get(job.target).import_permission())
        # The pages' rule (jobs.selectors): its starter or an admin, for the plan and the undo;
        # as on the page, an import with nothing (left) to undo says so first (a 400 below).
        may = job_controllable(job=job, membership=membership_of(request), user=request.user)
        if not may and import_can_undo(job=job):
            raise PermissionDenied("Only the person who ran this import or an admin can undo it.")
        if request.method == "GET":
            force = serializers.BooleanField().to_internal_value(
                request.query_params.get("force", "false")
            )
            return Response(import_undo_plan(job=job, force=force).as_dict())
        serializer = UndoRequestSerializer(data=request.data)
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
