"""Every API error is JSON: ``{"error": message, "details": {field: [messages]}}``.

Ferry's own errors (FerryError and friends) carry messages safe to show and become 4xx
responses here; anything unexpected is logged and answered with a generic 500 body.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from business.filters import InvalidFilter
from business.resources import UnknownResource
from jobs.errors import FerryError, LimitExceeded

logger = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """A 4xx answer with a message and optional per-field details."""

    def __init__(self, message: str, *, status_code: int = 400, details: dict | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.details = details or {}


class PayloadTooLarge(ApiError):
    def __init__(self, message: str):
        super().__init__(message, status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


class TooManyImports(ApiError):
    """The organization's limit of concurrent imports is reached: retry when one finished."""

    def __init__(self, message: str):
        super().__init__(message, status_code=status.HTTP_429_TOO_MANY_REQUESTS)


class IdempotencyConflict(ApiError):
    def __init__(self, message: str):
        super().__init__(message, status_code=status.HTTP_422_UNPROCESSABLE_ENTITY)


def error_body(message: str, details: dict | None = None) -> dict[str, Any]:
    return {"error": message, "details": details or {}}


def _as_list(value) -> list[str]:
    if isinstance(value, list | tuple):
        out: list[str] = []
        for item in value:
            out.extend(_as_list(item) if isinstance(item, list | tuple | dict) else [str(item)])
        return out
    if isinstance(value, dict):
        return [f"{k}: {m}" for k, v in value.items() for m in _as_list(v)]
    return [str(value)]


def _details_of(data) -> dict[str, list[str]]:
    if isinstance(data, dict):
        return {str(field): _as_list(value) for field, value in data.items()}
    return {"non_field_errors": _as_list(data)}


# FerryError codes that mean "no such thing" (an unknown report, resource).
NOT_FOUND_CODES = frozenset({"not_found", "unknown_resource"})


def _ferry_error_response(exc: FerryError) -> Response:
    """Map Ferry's domain errors to a status: oversize 413, unknown objects 404, else 400."""
    details = getattr(exc, "errors", None) or getattr(exc, "details", None) or {}
    if isinstance(exc, InvalidFilter) and exc.name:
        details = {f"filters.{exc.name}": [exc.message]}
    elif exc.code == "unknown_column":
        details = {"columns": [exc.message]}
    if not isinstance(details, dict):
        details = {"non_field_errors": _as_list(details)}
    details = {str(k): _as_list(v) for k, v in details.items()}
    code = status.HTTP_400_BAD_REQUEST
    if isinstance(exc, LimitExceeded):
        code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    elif exc.code in NOT_FOUND_CODES:
        code = status.HTTP_404_NOT_FOUND
    return Response(error_body(exc.message, details), status=code)


def exception_handler(exc, context):
    if isinstance(exc, TooManyImports):
        return Response(
            error_body(exc.message), status=exc.status_code, headers={"Retry-After": "30"}
        )
    if isinstance(exc, ApiError):
        return Response(error_body(exc.message, exc.details), status=exc.status_code)
    if isinstance(exc, FerryError):
        return _ferry_error_response(exc)
    if isinstance(exc, UnknownResource):
        return Response(error_body(str(exc)), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body(str(exc)), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.error("Unexpected error in API view %s", type(view).__name__, exc_info=exc)
        return Response(
            error_body("An unexpected error occurred. The details are in the server log."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("The request is not valid.", _details_of(exc.detail))
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        if isinstance(detail, dict | list):
            response.data = error_body("The request is not valid.", _details_of(detail))
        else:
            response.data = error_body(str(detail))
    return response
