"""Importing a file into a resource: the file and its settings in one request, a job back (202)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
)
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.views import APIView

from api.exceptions import PayloadTooLarge, TooManyImports
from api.permissions import require_code
from api.serializers.common import ErrorSerializer
from api.serializers.imports import ImportRequestSerializer
from api.services import (
    request_fingerprint,
)
from api.views.common import IDEMPOTENCY, STARTED, job_started
from api.views.templates import template_for_use
from business.resources import resource_get
from jobs.errors import LimitExceeded
from jobs.models import DataJob
from jobs.uploads import upload_declared_check, upload_too_large_message
from library.models import DataTemplate
from wizard.services import (
    import_configure,
    import_create,
    import_start,
    job_delete_files,
)


class ResourceImportView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="resource_import",
        summary="Import a file into a resource",
        request={"multipart/form-data": ImportRequestSerializer},
        parameters=[IDEMPOTENCY],
        responses={
            **STARTED,
            413: OpenApiResponse(ErrorSerializer, description="The file is too large"),
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
        serializer = ImportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        if upload.size > limit:
            raise PayloadTooLarge(upload_too_large_message(limit))
        template = template_for_use(
            request, data.get("template"), resource_cls.name, DataTemplate.Type.IMPORT
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
        return job_started(
            request,
            endpoint_key=f"POST import {resource_cls.name}",
            fingerprint=request_fingerprint(data=fields, files={"file": upload}),
            start=start,
        )
