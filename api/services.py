"""What the API does beyond the shared services: idempotent job starts and job files.

Imports, exports and reports are started through the very services the wizard and the
export builder use (wizard.services, reports.exporters);
this module only adds what is particular to HTTP clients.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from api.exceptions import ApiError, IdempotencyConflict
from api.models import IdempotencyKey
from jobs.models import DataJob
from jobs.selectors import job_files

IDEMPOTENCY_TTL = timedelta(hours=24)
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class JobStarted:
    status: int
    body: dict[str, Any]
    job: DataJob | None
    replayed: bool = False


def request_fingerprint(*, data: dict[str, Any], files: dict[str, Any] | None = None) -> str:
    """A digest of what a request asks for: same key with another fingerprint is a conflict."""
    digest = hashlib.sha256()
    digest.update(json.dumps(data, sort_keys=True, default=str).encode())
    for name in sorted(files or {}):
        upload = files[name]
        digest.update(f"\0file:{name}:{getattr(upload, 'name', '')}\0".encode())
        position = upload.tell() if hasattr(upload, "tell") else None
        upload.seek(0)
        for chunk in upload.chunks():
            digest.update(chunk)
        if position is not None:
            upload.seek(position)
    return digest.hexdigest()


def idempotency_key_of(request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ApiError(
            f"The {IDEMPOTENCY_HEADER} header must be 1 to {MAX_KEY_LENGTH} characters.",
            details={IDEMPOTENCY_HEADER: ["Invalid length."]},
        )
    return key


def job_start_idempotent(
    *,
    user,
    organization,
    endpoint: str,
    key: str | None,
    fingerprint: str,
    start: Callable[[], tuple[int, dict[str, Any], DataJob]],
) -> JobStarted:
    """Run ``start`` once per (user, organization, endpoint, key) within 24 hours.

    A retry with the same key and the same request gets the first response again; with a
    different request it is refused (422). The job and the stored key are written in one
    transaction, so two racing requests cannot both start a job: the loser's job is rolled
    back (its task was only to be queued on commit) and it replays the winner's response.
    """
    if key is None:
        # Still one transaction: a failure after the job row was created leaves no draft behind.
        with transaction.atomic():
            status, body, job = start()
        return JobStarted(status, body, job)
    lookup = {"user": user, "organization": organization, "endpoint": endpoint, "key": key}
    IdempotencyKey.objects.filter(
        **lookup, created_at__lt=timezone.now() - IDEMPOTENCY_TTL
    ).delete()
    stored = _stored_key(lookup)
    if stored is None:
        try:
            with transaction.atomic():
                status, body, job = start()
                IdempotencyKey.objects.create(
                    **lookup,
                    request_hash=fingerprint,
                    job=job,
                    response_status=status,
                    response_body=body,
                )
            return JobStarted(status, body, job)
        except IntegrityError:
            # Another request with this key committed first: answer what it answered.
            stored = _stored_key(lookup)
            if stored is None:
                raise
    if stored.request_hash != fingerprint:
        raise IdempotencyConflict(
            f"This {IDEMPOTENCY_HEADER} was already used with a different request "
            "in the last 24 hours. Use a new key for a new request."
        )
    return JobStarted(stored.response_status, stored.response_body, stored.job, replayed=True)


def _stored_key(lookup: dict[str, Any]) -> IdempotencyKey | None:
    return IdempotencyKey.objects.filter(**lookup).first()


def idempotency_purge(*, now=None) -> int:
    """Delete keys older than their 24 hours (they would be ignored anyway)."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_TTL
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- job files -----------------------------------------------------------------------------


class JobFileMissing(ApiError):
    def __init__(self, message: str):
        super().__init__(message, status_code=404)


def job_file(*, job: DataJob, kind: str) -> tuple[Any, str]:
    """An open file of the job and its download name: ``input``, ``output`` or a summary file.

    The files are the ones the jobs pages offer (``jobs.selectors.job_files``); only the
    answer when one is missing differs: a JSON 404 that says which.
    """
    found = next((f for f in job_files(job=job) if f.kind == kind), None)
    if found is None:
        raise JobFileMissing(f"Job {job.pk} has no {kind} file.")
    if not found.exists():
        raise JobFileMissing(f"The {kind} file of job {job.pk} is no longer available.")
    return found.storage.open(found.name, "rb"), found.filename
