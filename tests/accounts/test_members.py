"""The members page: invitations by e-mail, roles, single permissions, removal, audit events."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.invitations import INVITATION_MAX_AGE, invitation_token
from accounts.members import permission_catalogue
from accounts.models import Invitation, Membership
from accounts.permissions import ALL_CODES, MANAGE_MEMBERS, ROLE_CODES, Role
from business.models import AuditEvent
from business.resources import registry
from conftest import parts

pytestmark = pytest.mark.django_db
MEMBERS = reverse("accounts:members")


def membership(user, org) -> Membership:
    return Membership.objects.get(user=user, organization=org)


def member_events(org, action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            organization=org, event_type=AuditEvent.Type.MEMBER, details__action=action
        )
    )


def link_in(mail) -> str:
    return re.search(r"https?://\S+/accounts/invitation/\S+/", parts(mail)["text"]).group(0)


def invite(client, email="new.person@example.com", role=Role.OPS):
    return client.post(MEMBERS, {"email": email, "role": role})


# --- who may see the page -----------------------------------------------------------------


def test_it_lists_members_and_pending_invitations_for_an_admin(owner_client, member, smtp):
    invite(owner_client)
    response = owner_client.get(MEMBERS)
    assert response.status_code == 200
    html = response.content.decode()
    assert "owner@example.com" in html and "member@example.com" in html
    assert "new.person@example.com" in html and "Pending invitations" in html


@pytest.mark.parametrize("who", ["manager_client", "member_client", "viewer_client"])
def test_it_refuses_the_page_to_non_admins(request, who, owner):
    client = request.getfixturevalue(who)
    assert client.get(MEMBERS).status_code == 403
    assert invite(client).status_code == 403
    target = membership(owner, owner.memberships.get().organization)
    assert client.get(reverse("accounts:member", args=[target.pk])).status_code == 403
    assert client.post(reverse("accounts:member_remove", args=[target.pk])).status_code == 403


def test_it_shows_the_nav_entry_to_admins_only(owner_client, member_client):
    assert 'href="/accounts/members/"' in owner_client.get("/jobs/").content.decode()
    assert 'href="/accounts/members/"' not in member_client.get("/jobs/").content.decode()


def test_it_answers_404_for_another_organizations_member(owner_client, other_user, other_org):
    theirs = membership(other_user, other_org)
    assert owner_client.get(reverse("accounts:member", args=[theirs.pk])).status_code == 404
    response = owner_client.post(
        reverse("accounts:member", args=[theirs.pk]), {"action": "role", "role": Role.VIEWER}
    )
    assert response.status_code == 404
    assert owner_client.post(reverse("accounts:member_remove", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.role == Role.ADMIN


def test_it_answers_404_for_another_organizations_invitation(owner_client, other_client, smtp):
    invite(other_client, email="theirs@example.com")
    theirs = Invitation.objects.get(email="theirs@example.com")
    url = reverse("accounts:invitation_withdraw", args=[theirs.pk])
    assert owner_client.post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.withdrawn_at is None


# --- invitations ----------------------------------------------------------------------------


def test_it_mails_a_signed_link_in_text_and_html(owner_client, org, smtp):
    response = invite(owner_client, role=Role.MANAGER)
    assert response.status_code == 302
    (mail,) = smtp.wait(1)
    assert mail["To"] == "new.person@example.com"
    assert "Demo Trading Co." in mail["Subject"]
    body = parts(mail)
    assert "as Manager" in body["text"]
    link = link_in(mail)
    assert link in body["html"]
    invitation = Invitation.objects.get()
    assert invitation.role == Role.MANAGER and invitation.sent_at is not None
    (event,) = member_events(org, "invited")
    assert event.details["email"] == "new.person@example.com"
    assert event.user.username == "owner"


def test_it_accepts_an_invitation_with_a_new_username_and_password(owner_client, org, smtp, client):
    invite(owner_client, role=Role.MANAGER)
    link = link_in(smtp.wait(1)[0])
    page = client.get(link)
    assert page.status_code == 200 and "Join Demo Trading Co." in page.content.decode()
    response = client.post(
        link, {"username": "newbie", "password1": "Long-pass-987", "password2": "Long-pass-987"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    user = get_user_model().objects.get(username="newbie")
    assert user.email == "new.person@example.com" and user.check_password("Long-pass-987")
    assert membership(user, org).role == Role.MANAGER
    assert Invitation.objects.get().accepted_by == user
    (event,) = member_events(org, "joined")
    assert event.user == user
    # The link works once.
    again = client.get(link)
    assert again.status_code == 410 and "already been accepted" in again.content.decode()


def test_it_refuses_a_weak_or_mismatched_password(owner_client, smtp, client):
    invite(owner_client)
    link = link_in(smtp.wait(1)[0])
    weak = client.post(link, {"username": "newbie", "password1": "123", "password2": "123"})
    assert weak.status_code == 400
    differ = client.post(
        link, {"username": "newbie", "password1": "Long-pass-987", "password2": "Long-pass-988"}
    )
    assert differ.status_code == 400 and "differ" in differ.content.decode()
    taken = client.post(
        link, {"username": "owner", "password1": "Long-pass-987", "password2": "Long-pass-987"}
    )
    assert taken.status_code == 400 and "taken" in taken.content.decode()
    assert not get_user_model().objects.filter(username="newbie").exists()


def test_it_refuses_a_tampered_link(owner_client, smtp, client):
    invite(owner_client)
    link = link_in(smtp.wait(1)[0])
    token = link.rstrip("/").rsplit("/", 1)[1]
    # Change one character of the payload: the signature no longer matches.
    tampered = token[:3] + ("A" if token[3] != "A" else "B") + token[4:]
    response = client.get(reverse("accounts:invitation", args=[tampered]))
    assert response.status_code == 404 and "not valid" in response.content.decode()
    # A validly signed token for another address is refused too.
    invitation = Invitation.objects.get()
    invitation.email = "someone.else@example.com"
    forged = invitation_token(invitation=invitation)
    assert client.get(reverse("accounts:invitation", args=[forged])).status_code == 404


def test_it_refuses_an_expired_link(owner_client, smtp, client, monkeypatch):
    invite(owner_client)
    link = link_in(smtp.wait(1)[0])
    later = time.time() + INVITATION_MAX_AGE.total_seconds() + 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    response = client.get(link)
    assert response.status_code == 410 and "expired" in response.content.decode()
    response = client.post(
        link, {"username": "late", "password1": "Long-pass-987", "password2": "Long-pass-987"}
    )
    assert response.status_code == 410
    assert not get_user_model().objects.filter(username="late").exists()


def test_it_refuses_a_withdrawn_invitation_and_records_the_withdrawal(
    owner_client, org, smtp, client
):
    invite(owner_client)
    link = link_in(smtp.wait(1)[0])
    invitation = Invitation.objects.get()
    response = owner_client.post(reverse("accounts:invitation_withdraw", args=[invitation.pk]))
    assert response.status_code == 302
    assert client.get(link).status_code == 410
    assert member_events(org, "invitation_withdrawn")


def test_it_sends_a_new_link_and_retires_the_old_one(owner_client, smtp, client):
    invite(owner_client)
    invite(owner_client)
    first, second = smtp.wait(2)
    assert client.get(link_in(first)).status_code == 410
    assert client.get(link_in(second)).status_code == 200


def test_it_refuses_to_invite_an_existing_member(owner_client, member, smtp):
    response = invite(owner_client, email="MEMBER@example.com")
    assert response.status_code == 400 and "already a member" in response.content.decode()
    assert not Invitation.objects.exists() and smtp.attempts == 0


def test_it_saves_nothing_when_the_mail_server_is_down(owner_client, smtp_down):
    response = invite(owner_client)
    assert response.status_code == 400 and "mail server" in response.content.decode()
    assert not Invitation.objects.exists()


def test_it_lets_an_existing_account_join_as_itself(owner_client, other_user, other_org, smtp):
    invite(owner_client, email=other_user.email, role=Role.VIEWER)
    link = link_in(smtp.wait(1)[0])
    from django.test import Client

    anonymous = Client()
    assert "Log in with it" in anonymous.get(link).content.decode()
    signed_in = Client()
    signed_in.force_login(other_user)
    response = signed_in.post(link)
    assert response.status_code == 302
    assert Membership.objects.filter(user=other_user).count() == 2
    assert membership(other_user, other_org).role == Role.ADMIN


# --- roles ----------------------------------------------------------------------------------


def test_it_changes_a_role_and_records_it(owner_client, org, member):
    target = membership(member, org)
    url = reverse("accounts:member", args=[target.pk])
    response = owner_client.post(url, {"action": "role", "role": Role.MANAGER})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.role == Role.MANAGER
    (event,) = member_events(org, "role_changed")
    assert event.details["from"] == Role.OPS and event.details["to"] == Role.MANAGER
    assert event.object_repr == "member"


def test_it_does_not_let_an_admin_demote_themselves(owner_client, org, owner, manager):
    mine = membership(owner, org)
    url = reverse("accounts:member", args=[mine.pk])
    page = owner_client.get(url).content.decode()
    assert "This is you" in page and "Change role" not in page
    response = owner_client.post(url, {"action": "role", "role": Role.VIEWER})
    assert response.status_code == 400 and "yourself" in response.content.decode()
    mine.refresh_from_db()
    assert mine.role == Role.ADMIN
    response = owner_client.post(url, {"action": "permissions", "codes": []})
    assert response.status_code == 400
    assert not member_events(org, "role_changed")


def test_it_never_demotes_or_removes_the_last_admin(client_for, org, owner, manager):
    # A manager who was granted member management cannot take the last admin away.
    deputy = membership(manager, org)
    deputy.granted_permissions = [MANAGE_MEMBERS]
    deputy.save()
    client = client_for(manager)
    last = membership(owner, org)
    url = reverse("accounts:member", args=[last.pk])
    response = client.post(url, {"action": "role", "role": Role.OPS})
    assert response.status_code == 400 and "last admin" in response.content.decode()
    codes = sorted(ROLE_CODES[Role.ADMIN] - {MANAGE_MEMBERS})
    response = client.post(url, {"action": "permissions", "codes": codes})
    assert response.status_code == 400 and "last admin" in response.content.decode()
    response = client.post(reverse("accounts:member_remove", args=[last.pk]), follow=True)
    assert "last admin" in response.content.decode()
    last.refresh_from_db()
    assert last.role == Role.ADMIN and last.has_perm(MANAGE_MEMBERS)
    # With a second admin, the first may go.
    response = client.post(
        reverse("accounts:member", args=[deputy.pk]), {"action": "role", "role": Role.ADMIN}
    )
    assert response.status_code == 400  # nobody promotes themselves either
    second = client_for(owner).post(
        reverse("accounts:member", args=[deputy.pk]), {"action": "role", "role": Role.ADMIN}
    )
    assert second.status_code == 302
    response = client.post(reverse("accounts:member_remove", args=[last.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=last.pk).exists()


# --- permissions ----------------------------------------------------------------------------


def test_it_generates_a_checkbox_for_every_permission_code(owner_client, org, member):
    html = owner_client.get(reverse("accounts:member", args=[membership(member, org).pk]))
    html = html.content.decode()
    boxes = set(re.findall(r'name="codes" value="([a-z_]+)"', html))
    assert boxes == set(ALL_CODES)
    for resource in registry.all():
        assert resource.label in html
    assert set(permission_catalogue().all_codes()) == set(ALL_CODES)


def test_it_stores_ticks_as_grants_and_revokes_against_the_role(owner_client, org, member):
    target = membership(member, org)
    wanted = (ROLE_CODES[Role.OPS] - {"can_import_contact"}) | {"can_export_contact_pdf"}
    response = owner_client.post(
        reverse("accounts:member", args=[target.pk]),
        {"action": "permissions", "codes": sorted(wanted)},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.granted_permissions == ["can_export_contact_pdf"]
    assert target.revoked_permissions == ["can_import_contact"]
    assert target.permission_codes == wanted
    (event,) = member_events(org, "permissions_changed")
    assert event.details["added"] == ["can_export_contact_pdf"]
    assert event.details["removed"] == ["can_import_contact"]
    # The page shows the boxes ticked as stored, marked where they differ from the role.
    html = owner_client.get(reverse("accounts:member", args=[target.pk])).content.decode()
    assert re.search(
        r'perm-changed">\s*<input[^>]*value="can_export_contact_pdf"[^>]*checked', html
    )


def test_it_drops_grants_the_new_role_makes_moot(owner_client, org, member):
    target = membership(member, org)
    target.granted_permissions = ["can_export_contact_pdf", MANAGE_MEMBERS]
    target.save()
    owner_client.post(
        reverse("accounts:member", args=[target.pk]), {"action": "role", "role": Role.MANAGER}
    )
    target.refresh_from_db()
    assert target.granted_permissions == [MANAGE_MEMBERS]


# --- removal --------------------------------------------------------------------------------


def test_it_removes_a_member_and_records_it(owner_client, org, member):
    target = membership(member, org)
    response = owner_client.post(reverse("accounts:member_remove", args=[target.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=target.pk).exists()
    assert get_user_model().objects.filter(pk=member.pk).exists()
    (event,) = member_events(org, "removed")
    assert event.object_repr == "member" and event.user.username == "owner"


def test_it_does_not_let_an_admin_remove_themselves(owner_client, org, owner, manager):
    mine = membership(owner, org)
    response = owner_client.post(reverse("accounts:member_remove", args=[mine.pk]), follow=True)
    assert "yourself" in response.content.decode()
    assert Membership.objects.filter(pk=mine.pk).exists()
