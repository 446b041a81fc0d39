"""The API's pages for people: personal tokens and the documentation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from api.forms import TokenCreateForm
from api.models import ApiToken
from api.tokens import token_create, token_revoke, tokens_for
from business.audit import audit_record
from business.models import AuditEvent


@login_required
def tokens(request):
    """List the user's tokens; create one for the current organization (shown once)."""
    form = TokenCreateForm(request.POST or None)
    created = None
    status = 200
    if request.method == "POST":
        if request.organization is None:
            messages.error(request, "You need to belong to an organization to create a token.")
            return redirect("api:tokens")
        if form.is_valid():
            token, raw = token_create(
                user=request.user,
                organization=request.organization,
                name=form.cleaned_data["name"],
            )
            audit_record(
                organization=request.organization,
                event_type=AuditEvent.Type.SETTINGS,
                details={"action": "api_token_created"},
                user=request.user,
                object_type="api.ApiToken",
                object_id=str(token.pk),
                object_repr=f"API token {token.name} ({token.prefix})",
                request=request,
            )
            # Rendered, not redirected: the secret exists only in this response.
            created = {"token": token, "raw": raw}
            form = TokenCreateForm()
            status = 201
        else:
            status = 400
    response = render(
        request,
        "api/tokens.html",
        {"form": form, "tokens": tokens_for(user=request.user), "created": created},
        status=status,
    )
    if created:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke_view(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    name, prefix, organization = token.name, token.prefix, token.organization
    token_revoke(token=token)
    audit_record(
        organization=organization,
        event_type=AuditEvent.Type.SETTINGS,
        details={"action": "api_token_revoked"},
        user=request.user,
        object_type="api.ApiToken",
        object_id=str(pk),
        object_repr=f"API token {name} ({prefix})",
        request=request,
    )
    messages.success(request, f"Token “{name}” was revoked. Requests using it now get 401.")
    return redirect("api:tokens")


@login_required
def docs(request):
    return render(request, "api/docs.html", {"schema_url": reverse("api:schema")})
