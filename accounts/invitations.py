"""Invitations by e-mail: a signed, expiring link that lets a person set a password and join.

The token is ``django.core.signing`` over the invitation's id and address with a timestamp:
nothing secret is stored, a changed character makes it invalid, and it expires after
``INVITATION_MAX_AGE``. The Invitation row makes it single-use and lets admins withdraw it.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.members import MemberError, member_changed
from accounts.models import Invitation, Membership, Organization
from accounts.permissions import Role

INVITATION_MAX_AGE = timedelta(days=7)
_SALT = "ferry.accounts.invitation"


class InvitationInvalid(Exception):
    """The link cannot be used; the message is safe to show."""

    status = 404

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvitationExpired(InvitationInvalid):
    status = 410


def invitation_token(*, invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "e": invitation.email.lower()}, salt=_SALT)


def invitation_from_token(*, token: str) -> Invitation:
    """The pending invitation a link names; InvitationInvalid/Expired with a reason otherwise."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=INVITATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvitationExpired(
            "This invitation has expired. Ask an admin of the organization to send a new one."
        ) from exc
    except signing.BadSignature as exc:
        raise InvitationInvalid("This invitation link is not valid.") from exc
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(pk=data.get("i"))
        .first()
    )
    if invitation is None or invitation.email.lower() != data.get("e"):
        raise InvitationInvalid("This invitation link is not valid.")
    if invitation.accepted_at is not None:
        raise InvitationExpired("This invitation has already been accepted. Log in instead.")
    if invitation.withdrawn_at is not None:
        raise InvitationExpired("This invitation was withdrawn by an admin of the organization.")
    return invitation


def invitations_pending(*, organization: Organization) -> list[Invitation]:
    return list(
        Invitation.objects.filter(
            organization=organization, accepted_at=None, withdrawn_at=None
        ).select_related("invited_by")
    )


def _announce(*, invitation: Invitation, actor, action: str, request, **details) -> None:
    member_changed.send(
        sender=Invitation,
        organization=invitation.organization,
        actor=actor,
        action=action,
        object_type="accounts.Invitation",
        object_id=str(invitation.pk),
        object_repr=invitation.email,
        details={"email": invitation.email, "role": invitation.role, **details},
        request=request,
    )


def invitation_send(*, invitation: Invitation, accept_url: str) -> None:
    """Mail the link (text and HTML); raises on a mail server error, nothing half-done."""
    context = {
        "invitation": invitation,
        "organization": invitation.organization,
        "inviter": invitation.invited_by,
        "accept_url": accept_url,
        "role": invitation.get_role_display(),
        "days": INVITATION_MAX_AGE.days,
    }
    subject = f"You are invited to {invitation.organization.name} on Ferry"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("accounts/invitation_email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.email],
    )
    message.attach_alternative(
        render_to_string("accounts/invitation_email.html", context), "text/html"
    )
    message.send()
    invitation.sent_at = timezone.now()
    invitation.save(update_fields=["sent_at"])


def invitation_create(
    *,
    organization: Organization,
    actor,
    email: str,
    role: str,
    accept_url_for,
    request=None,
) -> Invitation:
    """Invite ``email`` with ``role`` and mail the link.

    ``accept_url_for(token)`` turns a token into the absolute link (the view knows the host).
    Inviting an address again replaces its pending invitation, so only the newest link works.
    """
    email = email.strip()
    if role not in dict(Role.CHOICES):
        raise MemberError("Choose one of the roles offered.")
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise MemberError(f"{email} is already a member of {organization.name}.")
    with transaction.atomic():
        now = timezone.now()
        Invitation.objects.filter(
            organization=organization, email__iexact=email, accepted_at=None, withdrawn_at=None
        ).update(withdrawn_at=now)
        invitation = Invitation.objects.create(
            organization=organization, email=email, role=role, invited_by=actor
        )
        try:
            invitation_send(
                invitation=invitation,
                accept_url=accept_url_for(invitation_token(invitation=invitation)),
            )
        except OSError as exc:  # smtplib's errors are OSErrors too
            raise MemberError(
                "The mail server did not take the invitation, so nothing was saved. "
                "Try again in a moment."
            ) from exc
        _announce(invitation=invitation, actor=actor, action="invited", request=request)
    return invitation


def invitation_get(*, organization: Organization, pk: int) -> Invitation:
    return Invitation.objects.get(
        organization=organization, pk=pk, accepted_at=None, withdrawn_at=None
    )


def invitation_withdraw(*, invitation: Invitation, actor, request=None) -> None:
    invitation.withdrawn_at = timezone.now()
    invitation.save(update_fields=["withdrawn_at"])
    _announce(invitation=invitation, actor=actor, action="invitation_withdrawn", request=request)


def invitation_accept(
    *,
    invitation: Invitation,
    user=None,
    username: str = "",
    password: str = "",
    request=None,
) -> Membership:
    """Join: as the signed-in ``user`` whose address was invited, or as a new account."""
    User = get_user_model()
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_pending:
            raise InvitationExpired("This invitation has already been used.")
        if user is None:
            if User._default_manager.filter(username__iexact=username).exists():
                raise MemberError("That username is taken; choose another one.")
            try:
                with transaction.atomic():
                    user = User._default_manager.create_user(
                        username=username, email=invitation.email, password=password
                    )
            except IntegrityError as exc:
                raise MemberError("That username is taken; choose another one.") from exc
        elif user.email.lower() != invitation.email.lower():
            raise MemberError("This invitation was sent to another e-mail address.")
        membership, created = Membership.objects.get_or_create(
            user=user, organization=invitation.organization, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        _announce(
            invitation=invitation,
            actor=user,
            action="joined",
            request=request,
            username=user.get_username(),
            already_member=not created,
        )
    return membership
