from accounts.models import Membership


def _other_memberships(request, membership) -> list[Membership]:
    # OrganizationMiddleware read them with the page's membership (one query for both); a
    # request that did not pass through it (a test's RequestFactory) reads them here.
    memberships = getattr(request, "memberships", None)
    if memberships and any(m.pk == membership.pk for m in memberships):
        return [m for m in memberships if m.pk != membership.pk]
    return list(
        Membership.objects.filter(user=request.user)
        .exclude(pk=membership.pk)
        .select_related("organization")
        .order_by("organization__name", "pk")
    )


def organization(request):
    # django-tables2 renders every TemplateColumn cell with the request, which runs context
    # processors again per cell: compute once per request, not once per table cell.
    cached = getattr(request, "_ferry_organization_context", None)
    if cached is not None:
        return cached
    membership = getattr(request, "membership", None)
    others = _other_memberships(request, membership) if membership is not None else []
    cached = {
        "current_organization": getattr(request, "organization", None),
        "current_membership": membership,
        "other_memberships": others,
        "perms_codes": membership.permission_codes if membership else frozenset(),
    }
    request._ferry_organization_context = cached
    return cached
