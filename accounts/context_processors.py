from accounts.models import Membership


def organization(request):
    # django-tables2 renders every TemplateColumn cell with the request, which runs context
    # processors again per cell: compute once per request, not once per table cell.
    cached = getattr(request, "_ferry_organization_context", None)
    if cached is not None:
        return cached
    membership = getattr(request, "membership", None)
    others = []
    if membership is not None:
        others = list(
            Membership.objects.filter(user=request.user)
            .exclude(pk=membership.pk)
            .select_related("organization")
        )
    cached = {
        "current_organization": getattr(request, "organization", None),
        "current_membership": membership,
        "other_memberships": others,
        "perms_codes": membership.permission_codes if membership else frozenset(),
    }
    request._ferry_organization_context = cached
    return cached
