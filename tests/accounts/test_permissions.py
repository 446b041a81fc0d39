"""What each role may do, and single-code overrides on a membership."""

import pytest

from accounts.models import Membership
from accounts.permissions import (
    ALL_CODES,
    MANAGE_MEMBERS,
    MANAGE_TEMPLATES,
    MODEL_CODES,
    VIEW_AUDIT,
    Role,
    codes_for,
    export_code,
    export_pdf_code,
    import_code,
)
from accounts.scoping import has_perm, require_perm

IMPORTABLE = [c for c in MODEL_CODES if c != "auditevent"]


def test_it_grants_admins_every_code():
    assert codes_for(Role.ADMIN) == ALL_CODES


def test_it_lets_managers_import_export_and_print_but_not_manage_the_org():
    codes = codes_for(Role.MANAGER)
    for model in IMPORTABLE:
        assert {import_code(model), export_code(model), export_pdf_code(model)} <= codes
    assert VIEW_AUDIT in codes and export_pdf_code("auditevent") in codes
    assert MANAGE_MEMBERS not in codes and MANAGE_TEMPLATES not in codes


def test_it_lets_ops_import_and_export_spreadsheets_but_not_print_pdfs():
    codes = codes_for(Role.OPS)
    for model in IMPORTABLE:
        assert import_code(model) in codes and export_code(model) in codes
        assert export_pdf_code(model) not in codes
    assert VIEW_AUDIT not in codes and export_code("auditevent") not in codes


def test_it_lets_viewers_only_export_spreadsheets():
    codes = codes_for(Role.VIEWER)
    assert codes == {export_code(m) for m in IMPORTABLE}
    assert not any(c.startswith("can_import_") for c in codes)


def test_it_never_lets_anyone_import_audit_events():
    assert import_code("auditevent") not in ALL_CODES


def test_it_follows_the_seed_wording_for_codes():
    assert {"can_import_product", "can_export_product", "can_export_product_pdf"} <= ALL_CODES


def test_it_adds_granted_codes_to_the_role():
    codes = codes_for(Role.VIEWER, granted=["can_export_product_pdf"])
    assert "can_export_product_pdf" in codes


def test_it_removes_revoked_codes_from_the_role():
    codes = codes_for(Role.OPS, revoked=["can_import_product"])
    assert "can_import_product" not in codes and "can_import_contact" in codes


def test_it_lets_a_revocation_win_over_a_grant():
    codes = codes_for(Role.VIEWER, granted=["can_import_lead"], revoked=["can_import_lead"])
    assert "can_import_lead" not in codes


def test_it_ignores_unknown_granted_codes():
    assert "can_launch_rockets" not in codes_for(Role.ADMIN, granted=["can_launch_rockets"])


def test_it_ignores_an_unknown_role():
    assert codes_for("pirate") == frozenset()


def test_it_checks_codes_through_the_membership(org, viewer):
    membership = Membership.objects.get(user=viewer, organization=org)
    membership.granted_permissions = ["can_import_contact"]
    membership.revoked_permissions = ["can_export_contact"]
    membership.save()
    membership = Membership.objects.get(pk=membership.pk)
    assert membership.has_perm("can_import_contact")
    assert not membership.has_perm("can_export_contact")
    assert membership.has_perm("can_export_product")
    assert not membership.is_admin
    assert has_perm(membership, "can_import_contact")
    assert not has_perm(None, "can_import_contact")


def test_it_refuses_a_request_without_the_code(rf, org, viewer):
    from django.core.exceptions import PermissionDenied

    request = rf.get("/")
    request.membership = Membership.objects.get(user=viewer, organization=org)
    require_perm(request, "can_export_contact")
    with pytest.raises(PermissionDenied):
        require_perm(request, "can_import_contact")
    request.membership = None
    with pytest.raises(PermissionDenied):
        require_perm(request, "can_export_contact")
