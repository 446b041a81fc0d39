from decimal import Decimal

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.decorators import organization_required
from accounts.formats import date_format, money_format
from accounts.forms import OrganizationSettingsForm
from accounts.middleware import SESSION_KEY
from accounts.models import Membership
from accounts.services import (
    LOGO_MEDIA_TYPES,
    LogoRejected,
    logo_sniff,
    organization_settings_update,
)
from accounts.throttle import LoginForm


class LoginView(auth_views.LoginView):
    """Django's log-in view with throttled attempts (accounts.throttle): 429 while locked."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    form_class = LoginForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.is_throttled():
            response.status_code = 429
        return response


@login_required
@require_POST
def organization_switch(request):
    organization_id = request.POST.get("organization", "")
    membership = None
    if organization_id.isdigit():
        membership = Membership.objects.filter(
            user=request.user, organization_id=int(organization_id)
        ).first()
    if membership is None:
        raise Http404("Not found.")
    request.session[SESSION_KEY] = membership.organization_id
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


@login_required
def no_organization(request):
    # A member who lands here (old bookmark, or just added to an organization) goes on to work.
    if request.membership is not None:
        return redirect("jobs:dashboard")
    return render(request, "accounts/no_organization.html", status=403)


def _admin_only(request) -> None:
    if not (request.membership.is_admin or request.user.is_superuser):
        raise PermissionDenied("Only an organization admin can change its settings.")


@organization_required
def organization_settings(request):
    _admin_only(request)
    organization = request.organization
    form = OrganizationSettingsForm(
        request.POST or None, request.FILES or None, instance=organization
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("logo_upload")
        organization_settings_update(
            organization=organization,
            data={f: form.cleaned_data[f] for f in form.Meta.fields},
            logo=upload.read() if upload else None,
            logo_kind=form.cleaned_data.get("logo_kind"),
            logo_remove=form.cleaned_data.get("logo_remove", False),
        )
        messages.success(request, "Organization settings saved.")
        return redirect("accounts:settings")
    # A failed POST leaves unsaved values on the instance; the preview shows the saved ones.
    saved = type(organization).objects.get(pk=organization.pk)
    return render(
        request,
        "accounts/settings.html",
        {
            "form": form,
            "organization": saved,
            "sample_money": money_format(Decimal("1234567.891"), organization=saved),
            "sample_date": date_format(timezone.localdate(), organization=saved),
        },
        status=400 if form.errors else 200,
    )


@organization_required
def organization_logo(request):
    """The current organization's logo, to members only (never a public media URL)."""
    organization = request.organization
    if not organization.logo:
        raise Http404("No logo.")
    try:
        content = organization.logo.open("rb").read()
    except OSError as exc:
        raise Http404("No logo.") from exc
    try:
        kind = logo_sniff(content[:8192])
    except LogoRejected as exc:
        raise Http404("No logo.") from exc
    response = HttpResponse(content, content_type=LOGO_MEDIA_TYPES[kind])
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    # An SVG opened on its own must not run anything even if a script slipped through.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
