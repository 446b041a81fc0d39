"""Audit events for signing in and out.

A login or logout is recorded in the organization the session acts under (the one the user
last chose, else their first), because that is whose audit trail an admin reads.

A failed login has no organization: nobody is signed in. It is recorded only when the
username belongs to a member, in that member's first organization, so an admin can see
someone trying their colleague's account. Attempts on unknown usernames are not written
anywhere: no organization owns them, and putting them in an arbitrary organization's trail
would show one customer the probing aimed at another. The password is never recorded.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.middleware import SESSION_KEY, membership_for
from accounts.signals import login_locked_out
from business.audit import audit_record
from business.models import AuditEvent


def _session_org_id(request):
    session = getattr(request, "session", None)
    return session.get(SESSION_KEY) if session is not None else None


def _member_named(username):
    """The user of ``username`` and their first membership, or None when it names no member
    (the rule for failed and locked-out logins: module docstring)."""
    User = get_user_model()
    user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
    membership = membership_for(user) if user is not None else None
    return (user, membership) if membership is not None else None


def _account_event(*, organization, event_type, account, request, actor=None, details=None):
    """An audit event whose object is a user account. ``actor`` is the signed-in user, if any:
    after a failed attempt nobody is, and the event names the account tried, not an actor."""
    audit_record(
        organization=organization,
        event_type=event_type,
        user=actor,
        object_type="auth.User",
        object_id=str(account.pk),
        object_repr=account.get_username(),
        details=details,
        request=request,
    )


@receiver(user_logged_in, dispatch_uid="business.audit_login")
def audit_login(sender, request, user, **kwargs):
    membership = membership_for(user, _session_org_id(request))
    if membership is None:
        return
    _account_event(
        organization=membership.organization,
        event_type=AuditEvent.Type.LOGIN,
        account=user,
        actor=user,
        request=request,
    )


@receiver(user_logged_out, dispatch_uid="business.audit_logout")
def audit_logout(sender, request, user, **kwargs):
    if user is None:
        return
    organization = getattr(request, "organization", None)
    if organization is None:
        membership = membership_for(user, _session_org_id(request))
        organization = membership.organization if membership is not None else None
    if organization is None:
        return
    _account_event(
        organization=organization,
        event_type=AuditEvent.Type.LOGOUT,
        account=user,
        actor=user,
        request=request,
    )


@receiver(login_locked_out, dispatch_uid="business.audit_login_locked_out")
def audit_login_locked_out(sender, username, address, scope, failures, seconds, request, **kwargs):
    member = _member_named(username)
    if member is None:
        return
    user, membership = member
    _account_event(
        organization=membership.organization,
        event_type=AuditEvent.Type.LOGIN_FAILED,
        account=user,
        details={
            "username": user.get_username(),
            "locked_out": True,
            "lock": "this account" if scope == "username" else "the client address",
            "failed_attempts": failures,
            "locked_for_seconds": seconds,
        },
        request=request,
    )


@receiver(user_login_failed, dispatch_uid="business.audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    User = get_user_model()
    username = (credentials or {}).get(User.USERNAME_FIELD) or (credentials or {}).get("username")
    if not username:
        return
    member = _member_named(username)
    if member is None:
        return
    user, membership = member
    _account_event(
        organization=membership.organization,
        event_type=AuditEvent.Type.LOGIN_FAILED,
        account=user,
        details={"username": user.get_username()},
        request=request,
    )
