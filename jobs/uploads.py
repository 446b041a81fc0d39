"""The size rule for uploads, checked on the declared length before the body is read.

Django spools a multipart body to disk as soon as anything reads ``request.POST`` or
``request.FILES`` (the CSRF middleware does, for a POST). Checking the upload's size after that
means a 200 MB body is received and written out in full before a 5 MB limit refuses it. The web
wizard and the API both call :func:`upload_declared_check` first.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings

from jobs.errors import LimitExceeded

# Room for the multipart framing and the other form fields sent with the file.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def upload_too_large_message(limit: int) -> str:
    size = f"{limit / 1024**2:g} MB" if limit >= 1024**2 else f"{limit / 1024:g} KB"
    return f"The file is larger than the {size} upload limit. Split it into smaller files."


def upload_declared_check(*, meta: Mapping[str, str]) -> None:
    """Refuse a request whose declared length (Content-Length) exceeds the upload limit."""
    limit = settings.FERRY["MAX_UPLOAD_BYTES"]
    try:
        declared = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        # Django itself treats an unparsable length as an empty body: nothing will be read.
        declared = 0
    if declared > limit + MULTIPART_OVERHEAD_BYTES:
        raise LimitExceeded(upload_too_large_message(limit))
