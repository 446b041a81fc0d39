from accounts.models import Membership


def organization(request):
    membership = getattr(request, "membership", None)
    others = []
    if membership is not None:
        others = list(
            Membership.objects.filter(user=request.user)
            .exclude(pk=membership.pk)
            .select_related("organization")
        )
    return {
        "current_organization": getattr(request, "organization", None),
        "current_membership": membership,
        "other_memberships": others,
        "perms_codes": membership.permission_codes if membership else frozenset(),
    }
