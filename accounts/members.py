"""Members of an organization: roles, single-permission grants and revokes, removal.

Two rules hold whoever acts: an organization always keeps an admin who can manage members,
and nobody changes their own role, permissions or membership (an admin who demoted themselves
by mistake could not undo it).

accounts sits below business, so it cannot read the resource registry nor write audit events
itself. The business app registers the per-model permission rows
(:func:`model_permission_rows_register`) and listens to :data:`member_changed` to record every
change in the audit trail (business/members.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.dispatch import Signal
from django.utils.text import capfirst

from accounts.models import Membership, Organization
from accounts.permissions import (
    ALL_CODES,
    DOCUMENT_KINDS,
    MANAGE_MEMBERS,
    MANAGE_SCHEDULES,
    MANAGE_SYNC,
    MANAGE_TEMPLATES,
    MODEL_CODES,
    ORG_CODES,
    ROLE_CODES,
    VIEW_AUDIT,
    Role,
    export_code,
    export_pdf_code,
    import_code,
    print_code,
)

# Sent after every change to who belongs to an organization and what they may do.
# Arguments: organization, actor (the user acting), action, object_type, object_id,
# object_repr, details (a dict), request (or None).
member_changed = Signal()


class MemberError(Exception):
    """A refused change to a member; the message is safe to show."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- the permission catalogue ---------------------------------------------------------------


@dataclass(frozen=True)
class ModelPermissionRow:
    """One business model's permission codes; None where the action does not exist."""

    label: str
    import_code: str | None
    export_code: str | None
    export_pdf_code: str | None

    @property
    def codes(self) -> tuple[str | None, str | None, str | None]:
        return (self.import_code, self.export_code, self.export_pdf_code)


@dataclass(frozen=True)
class CodeRow:
    code: str
    label: str


@dataclass(frozen=True)
class PermissionCatalogue:
    models: list[ModelPermissionRow]
    sections: list[tuple[str, list[CodeRow]]] = field(default_factory=list)

    def all_codes(self) -> set[str]:
        out = {c for row in self.models for c in row.codes if c}
        out |= {row.code for _, rows in self.sections for row in rows}
        return out


ORG_CODE_LABELS: dict[str, str] = {
    MANAGE_MEMBERS: "Manage members: invite, change roles and permissions, remove",
    MANAGE_TEMPLATES: "Manage the organization's saved templates",
    VIEW_AUDIT: "Read the audit trail",
    MANAGE_SCHEDULES: "Create and run scheduled exports",
    MANAGE_SYNC: "Connect external inventory databases and run syncs",
}

_model_rows_source: Callable[[], list[ModelPermissionRow]] | None = None


def model_permission_rows_register(source: Callable[[], list[ModelPermissionRow]]) -> None:
    """Let the app that owns the business models (and their labels) supply the model rows."""
    global _model_rows_source
    _model_rows_source = source


def _fallback_model_rows() -> list[ModelPermissionRow]:
    # Only when no app registered its rows (accounts used on its own): the bare model codes.
    return [
        ModelPermissionRow(
            label=capfirst(code),
            import_code=import_code(code) if import_code(code) in ALL_CODES else None,
            export_code=export_code(code),
            export_pdf_code=export_pdf_code(code),
        )
        for code in MODEL_CODES
    ]


def _known(code: str | None) -> str | None:
    return code if code in ALL_CODES else None


def permission_catalogue() -> PermissionCatalogue:
    """Every permission code a member can be given, grouped as the members page shows them."""
    source = _model_rows_source or _fallback_model_rows
    models = [
        ModelPermissionRow(
            label=row.label,
            import_code=_known(row.import_code),
            export_code=_known(row.export_code),
            export_pdf_code=_known(row.export_pdf_code),
        )
        for row in source()
    ]
    organization = [CodeRow(c, ORG_CODE_LABELS.get(c, _humanize(c))) for c in ORG_CODES]
    documents = [
        CodeRow(print_code(kind), f"Print {kind.replace('_', ' ')}s") for kind in DOCUMENT_KINDS
    ]
    catalogue = PermissionCatalogue(
        models=models, sections=[("Organization", organization), ("Documents", documents)]
    )
    # A code added to accounts/permissions.py without a place here still gets a checkbox.
    rest = sorted(ALL_CODES - catalogue.all_codes())
    if rest:
        catalogue.sections.append(("Other", [CodeRow(c, _humanize(c)) for c in rest]))
    return catalogue


def _humanize(code: str) -> str:
    return capfirst(code.removeprefix("can_").replace("_", " "))


# --- selectors ------------------------------------------------------------------------------


def members_list(*, organization: Organization) -> list[Membership]:
    return list(
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__username")
    )


def member_get(*, organization: Organization, pk: int) -> Membership:
    """A membership of this organization; another organization's raises DoesNotExist (a 404)."""
    return Membership.objects.select_related("user").get(organization=organization, pk=pk)


def _keeps_an_admin(*, membership: Membership, role: str, codes: frozenset[str] | None) -> bool:
    """Whether, after this change to ``membership``, some admin can still manage members."""
    others = (
        Membership.objects.select_for_update()
        .filter(organization_id=membership.organization_id, role=Role.ADMIN)
        .exclude(pk=membership.pk)
    )
    if any(m.has_perm(MANAGE_MEMBERS) for m in others):
        return True
    if role != Role.ADMIN:
        return False
    return MANAGE_MEMBERS in (codes if codes is not None else membership.permission_codes)


def _not_self(*, membership: Membership, actor, what: str) -> None:
    if membership.user_id == actor.pk:
        raise MemberError(f"You cannot {what} yourself; ask another admin.")


def _announce(*, membership: Membership, actor, action: str, details: dict, request) -> None:
    member_changed.send(
        sender=Membership,
        organization=membership.organization,
        actor=actor,
        action=action,
        object_type="auth.User",
        object_id=str(membership.user_id),
        object_repr=membership.user.get_username(),
        details=details,
        request=request,
    )


# --- services -------------------------------------------------------------------------------


def member_set_role(*, membership: Membership, actor, role: str, request=None) -> Membership:
    if role not in dict(Role.CHOICES):
        raise MemberError("Choose one of the roles offered.")
    _not_self(membership=membership, actor=actor, what="change the role of")
    old = membership.role
    if old == role:
        return membership
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if not _keeps_an_admin(membership=membership, role=role, codes=None):
            raise MemberError(
                f"{membership.user.get_username()} is the last admin; make someone else an "
                "admin first."
            )
        membership.role = role
        # Grants and revokes are relative to the role; those the new role makes moot go.
        defaults = ROLE_CODES.get(role, frozenset())
        membership.granted_permissions = sorted(set(membership.granted_permissions) - defaults)
        membership.revoked_permissions = sorted(set(membership.revoked_permissions) & defaults)
        membership.save(update_fields=["role", "granted_permissions", "revoked_permissions"])
        _announce(
            membership=membership,
            actor=actor,
            action="role_changed",
            details={"from": old, "to": role},
            request=request,
        )
    return membership


def member_set_permissions(
    *, membership: Membership, actor, codes: Iterable[str], request=None
) -> Membership:
    """Give the member exactly ``codes``: stored as grants and revokes against their role."""
    _not_self(membership=membership, actor=actor, what="change the permissions of")
    wanted = set(codes) & ALL_CODES
    defaults = ROLE_CODES.get(membership.role, frozenset())
    granted = sorted(wanted - defaults)
    revoked = sorted(defaults - wanted)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        before = membership.permission_codes
        after = frozenset(wanted)
        if before == after:
            return membership
        if not _keeps_an_admin(membership=membership, role=membership.role, codes=after):
            raise MemberError(
                f"{membership.user.get_username()} is the last admin who can manage members; "
                "that permission stays."
            )
        membership.granted_permissions = granted
        membership.revoked_permissions = revoked
        membership.save(update_fields=["granted_permissions", "revoked_permissions"])
        membership._codes = None
        _announce(
            membership=membership,
            actor=actor,
            action="permissions_changed",
            details={"added": sorted(after - before), "removed": sorted(before - after)},
            request=request,
        )
    return membership


def member_remove(*, membership: Membership, actor, request=None) -> None:
    _not_self(membership=membership, actor=actor, what="remove")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == Role.ADMIN and not _keeps_an_admin(
            membership=membership, role=Role.VIEWER, codes=frozenset()
        ):
            raise MemberError(
                f"{membership.user.get_username()} is the last admin and cannot be removed."
            )
        _announce(
            membership=membership,
            actor=actor,
            action="removed",
            details={"role": membership.role},
            request=request,
        )
        membership.delete()
