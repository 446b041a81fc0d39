"""Personal API tokens: created once, shown once, stored as a SHA-256 digest.

A token reads ``fry_<prefix>_<secret>``. The prefix (8 characters) is public and finds the
row; the secret (256 bits) is never stored, only ``sha256(token)``. A fast hash is right
here (unlike passwords): the secret is random and long, so there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership
from api.models import ApiToken
from jobs.errors import FerryError

TOKEN_PREFIX = "fry_"
# last_used_at is written at most this often, so a busy script does not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenInvalid(FerryError):
    pass


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(*, user, organization, name: str) -> tuple[ApiToken, str]:
    """Create a token for the user's membership of ``organization``. Returns (token, raw secret)."""
    if not Membership.objects.filter(user=user, organization=organization).exists():
        raise FerryError("You can only create a token for an organization you belong to.")
    name = name.strip()
    if not name:
        raise FerryError("Give the token a name, so you can recognise it later.")
    while True:
        prefix = secrets.token_hex(4)
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        organization=organization,
        name=name[:100],
        prefix=prefix,
        secret_hash=_digest(raw),
    )
    return token, raw


def token_revoke(*, token: ApiToken) -> None:
    token.delete()


def tokens_for(*, user):
    return ApiToken.objects.filter(user=user).select_related("organization")


def token_authenticate(raw: str) -> tuple[ApiToken, Membership]:
    """The token and the membership it acts under, or TokenInvalid (the caller answers 401)."""
    if not raw.startswith(TOKEN_PREFIX):
        raise TokenInvalid("Invalid API token.")
    prefix, _, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    if not prefix or not secret:
        raise TokenInvalid("Invalid API token.")
    token = ApiToken.objects.select_related("user", "organization").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _digest(raw)):
        raise TokenInvalid("Invalid API token.")
    if not token.user.is_active:
        raise TokenInvalid("The user of this API token is inactive.")
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=token.user, organization=token.organization)
        .first()
    )
    if membership is None:
        raise TokenInvalid("This API token's user is no longer a member of its organization.")
    token_touch(token=token)
    return token, membership


def token_touch(*, token: ApiToken, now=None) -> bool:
    """Record use of the token, at most once per LAST_USED_RESOLUTION. True if written."""
    now = now or timezone.now()
    written = (
        ApiToken.objects.filter(pk=token.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION))
        .update(last_used_at=now)
    )
    if written:
        token.last_used_at = now
    return bool(written)
