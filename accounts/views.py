from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.middleware import SESSION_KEY
from accounts.models import Membership


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
