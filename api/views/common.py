"""What every resource group's views share: the documented error answers and starting a job once per Idempotency-Key."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
)
from rest_framework import status
from rest_framework.response import Response

from api.exceptions import error_body
from api.serializers.common import ErrorSerializer
from api.serializers.jobs import DataJobSerializer
from api.services import (
    idempotency_key_of,
    job_start_idempotent,
)
from jobs.models import DataJob

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid request"),
    401: OpenApiResponse(ErrorSerializer, description="Not authenticated"),
    403: OpenApiResponse(ErrorSerializer, description="Permission denied"),
    404: OpenApiResponse(ErrorSerializer, description="Not found"),
    409: OpenApiResponse(ErrorSerializer, description="Changed meanwhile: look again"),
    429: OpenApiResponse(ErrorSerializer, description="Too many requests (see Retry-After)"),
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
    202: OpenApiResponse(DataJobSerializer, description="The job was queued."),
    **errors(400, 403, 404),
    422: OpenApiResponse(ErrorSerializer, description="Idempotency-Key reused for another body"),
}
FILE = {
    (200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The file"),
    **errors(403, 404),
}


@csrf_exempt
def not_found(request, *args, **kwargs) -> JsonResponse:
    return JsonResponse(error_body("Not found."), status=404)


def job_body(request, job: DataJob) -> dict:
    return DataJobSerializer(job, context={"request": request}).data


def job_started(request, *, endpoint_key: str, fingerprint: str, start) -> Response:
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
