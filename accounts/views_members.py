"""The members page: invite by e-mail, change roles and permissions, remove; accept an invitation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.decorators import organization_required
from accounts.forms import (
    InvitationAcceptForm,
    InvitationForm,
    MemberPermissionsForm,
    MemberRoleForm,
)
from accounts.invitations import (
    INVITATION_MAX_AGE,
    InvitationInvalid,
    invitation_accept,
    invitation_create,
    invitation_from_token,
    invitation_get,
    invitation_withdraw,
    invitations_pending,
)
from accounts.members import (
    MemberError,
    member_get,
    member_remove,
    member_set_permissions,
    member_set_role,
    members_list,
    permission_catalogue,
)
from accounts.models import Invitation, Membership
from accounts.permissions import MANAGE_MEMBERS, ROLE_CODES, Role


def _members_admin(request) -> None:
    if not (request.membership.has_perm(MANAGE_MEMBERS) or request.user.is_superuser):
        raise PermissionDenied("Only an organization admin can manage its members.")


def _member_or_404(request, pk: int) -> Membership:
    try:
        return member_get(organization=request.organization, pk=pk)
    except Membership.DoesNotExist as exc:
        raise Http404("No such member.") from exc


@organization_required
def members(request):
    _members_admin(request)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invitation_create(
                organization=request.organization,
                actor=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                accept_url_for=lambda token: request.build_absolute_uri(
                    reverse("accounts:invitation", args=[token])
                ),
                request=request,
            )
        except MemberError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("accounts:members")
    return render(
        request,
        "accounts/members.html",
        {
            "form": form,
            "members": members_list(organization=request.organization),
            "invitations": invitations_pending(organization=request.organization),
            "roles": Role.CHOICES,
            "invitation_days": INVITATION_MAX_AGE.days,
        },
        status=400 if form.errors else 200,
    )


def _grid(membership: Membership, ticked: frozenset[str]) -> dict:
    """The catalogue as rows of cells: code, ticked, and whether that differs from the role."""
    catalogue = permission_catalogue()
    defaults = ROLE_CODES.get(membership.role, frozenset())

    def cell(code, action=""):
        if code is None:
            return None
        changed = (code in ticked) != (code in defaults)
        return {"code": code, "ticked": code in ticked, "changed": changed, "action": action}

    return {
        "models": [
            {
                "label": row.label,
                "cells": [
                    cell(c, a) for c, a in zip(row.codes, ("Import", "Export", "PDF"), strict=True)
                ],
            }
            for row in catalogue.models
        ],
        "sections": [
            (title, [{"label": r.label, **cell(r.code)} for r in rows])
            for title, rows in catalogue.sections
        ],
    }, catalogue


@organization_required
def member_detail(request, pk: int):
    _members_admin(request)
    membership = _member_or_404(request, pk)
    grid, catalogue = _grid(membership, membership.permission_codes)
    role_form = MemberRoleForm(initial={"role": membership.role})
    permissions_form = MemberPermissionsForm(catalogue=catalogue)
    error = None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "role":
                role_form = MemberRoleForm(request.POST)
                if role_form.is_valid():
                    member_set_role(
                        membership=membership,
                        actor=request.user,
                        role=role_form.cleaned_data["role"],
                        request=request,
                    )
                    messages.success(request, f"{membership.user.get_username()}'s role changed.")
                    return redirect("accounts:member", pk=membership.pk)
            elif action == "permissions":
                permissions_form = MemberPermissionsForm(request.POST, catalogue=catalogue)
                if permissions_form.is_valid():
                    member_set_permissions(
                        membership=membership,
                        actor=request.user,
                        codes=permissions_form.cleaned_data["codes"],
                        request=request,
                    )
                    messages.success(
                        request, f"{membership.user.get_username()}'s permissions saved."
                    )
                    return redirect("accounts:member", pk=membership.pk)
            else:
                error = "Unknown action."
        except MemberError as exc:
            error = exc.message
    return render(
        request,
        "accounts/member_detail.html",
        {
            "membership": membership,
            "is_self": membership.user_id == request.user.pk,
            "role_form": role_form,
            "permissions_form": permissions_form,
            "grid": grid,
            "error": error,
        },
        status=400 if (error or role_form.errors or permissions_form.errors) else 200,
    )


@organization_required
@require_POST
def member_delete(request, pk: int):
    _members_admin(request)
    membership = _member_or_404(request, pk)
    try:
        member_remove(membership=membership, actor=request.user, request=request)
    except MemberError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:member", pk=membership.pk)
    messages.success(
        request,
        f"{membership.user.get_username()} no longer belongs to {request.organization.name}.",
    )
    return redirect("accounts:members")


@organization_required
@require_POST
def invitation_delete(request, pk: int):
    _members_admin(request)
    try:
        invitation = invitation_get(organization=request.organization, pk=pk)
    except Invitation.DoesNotExist as exc:
        raise Http404("No such invitation.") from exc
    invitation_withdraw(invitation=invitation, actor=request.user, request=request)
    messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    return redirect("accounts:members")


def invitation(request, token: str):
    """Public: the link in the mail. Set a username and password, or join as yourself."""
    try:
        invite = invitation_from_token(token=token)
    except InvitationInvalid as exc:
        return render(
            request, "accounts/invitation_invalid.html", {"reason": exc.message}, status=exc.status
        )
    user = request.user if request.user.is_authenticated else None
    if user is not None and user.email.lower() != invite.email.lower():
        if request.method == "POST" and request.POST.get("action") == "logout":
            logout(request)
            return redirect(request.path)
        return render(
            request, "accounts/invitation_accept.html", {"invitation": invite, "mismatch": True}
        )
    existing = (
        user is None
        and get_user_model()._default_manager.filter(email__iexact=invite.email).exists()
    )
    form = InvitationAcceptForm(request.POST or None, email=invite.email)
    error = None
    if request.method == "POST" and (user is not None or form.is_valid()):
        try:
            if user is not None:
                invitation_accept(invitation=invite, user=user, request=request)
            else:
                invitation_accept(
                    invitation=invite,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                    request=request,
                )
        except (MemberError, InvitationInvalid) as exc:
            error = exc.message
        else:
            messages.success(
                request,
                f"Welcome to {invite.organization.name}."
                + ("" if user else " Log in with your new username and password."),
            )
            return redirect("jobs:dashboard" if user else "accounts:login")
    return render(
        request,
        "accounts/invitation_accept.html",
        {
            "invitation": invite,
            "form": form,
            "joining_as": user,
            "existing": existing,
            "error": error,
        },
        status=400 if (error or form.errors) else 200,
    )
