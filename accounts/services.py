"""Organization settings: what documents and reports print about the organization."""

from __future__ import annotations

import base64
import re

from django.core.files.base import ContentFile
from django.db import transaction

from accounts.models import Organization

LOGO_MAX_BYTES = 1024 * 1024
LOGO_MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "svg": "image/svg+xml"}
# Active content in an SVG would run wherever the image is opened on its own.
_SVG_ACTIVE = re.compile(rb"<script|\bon[a-z]+\s*=|javascript:|<foreignObject|<!ENTITY", re.I)


class LogoRejected(ValueError):
    """A refused logo upload; the message is safe to show (accounts sits below jobs.errors)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def logo_sniff(head: bytes) -> str:
    """The kind of an uploaded logo from its bytes (never its name): png, jpeg or svg."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith((b"<?xml", b"<svg", b"<!--")) and b"<svg" in text[:4096]:
        if _SVG_ACTIVE.search(text):
            raise LogoRejected(
                "This SVG contains scripts or external entities; upload a plain one."
            )
        return "svg"
    raise LogoRejected("The logo must be a PNG, JPEG or SVG image.")


def organization_settings_update(
    *,
    organization: Organization,
    data: dict,
    logo: bytes | None = None,
    logo_kind: str | None = None,
    logo_remove: bool = False,
) -> Organization:
    """Save the settings form's fields; replace or remove the logo."""
    for field, value in data.items():
        setattr(organization, field, value)
    with transaction.atomic():
        if (logo is not None or logo_remove) and organization.logo:
            organization.logo.delete(save=False)
        if logo is not None:
            organization.logo.save(f"logo.{logo_kind}", ContentFile(logo), save=False)
        organization.save()
    return organization


def organization_logo_data_uri(*, organization: Organization) -> str | None:
    """The logo inlined as a data: URI for PDFs (WeasyPrint needs no URL, nothing is public)."""
    if not organization.logo:
        return None
    try:
        with organization.logo.open("rb") as fh:
            content = fh.read(LOGO_MAX_BYTES + 1)
    except OSError:
        return None
    try:
        kind = logo_sniff(content[:8192])
    except LogoRejected:
        return None
    encoded = base64.b64encode(content).decode("ascii")
    return f"data:{LOGO_MEDIA_TYPES[kind]};base64,{encoded}"
