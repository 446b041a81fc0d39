"""library.services: every change is checked the same way and audited, whichever door it took."""

from __future__ import annotations

import pytest

from business.models import AuditEvent
from library.models import DataTemplate
from library.services import (
    TemplateError,
    TemplatePermissionError,
    template_create,
    template_delete,
    template_mark_used,
    template_rename,
    template_update,
)

pytestmark = pytest.mark.django_db


def _audits() -> list[tuple[str, str]]:
    return [
        (e.details["action"], e.object_repr)
        for e in AuditEvent.objects.filter(event_type=AuditEvent.Type.TEMPLATE).order_by("pk")
    ]


def test_it_audits_create_rename_update_and_delete(org, member):
    membership = member.memberships.get()
    template = template_create(
        organization=org, membership=membership, name="Weekly", resource="contacts"
    )
    template_rename(template=template, membership=membership, name="Weekly CRM")
    template_update(template=template, membership=membership, mapping={"Mail": "email"})
    template_delete(template=template, membership=membership)
    assert _audits() == [
        ("created", "Weekly"),
        ("renamed", "Weekly CRM"),
        ("updated", "Weekly CRM"),
        ("deleted", "Weekly CRM"),
    ]
    event = AuditEvent.objects.get(details__action="renamed")
    assert event.object_type == "library.DataTemplate"
    assert event.details["old_name"] == "Weekly" and event.user == member


def test_it_refuses_a_name_that_differs_only_by_case(org, member):
    membership = member.memberships.get()
    template_create(organization=org, membership=membership, name="Weekly", resource="contacts")
    with pytest.raises(TemplateError) as caught:
        template_create(
            organization=org, membership=membership, name=" weekly ", resource="contacts"
        )
    assert caught.value.field == "name" and "already exists" in caught.value.message


def test_it_refuses_an_unknown_resource_naming_it(org, member):
    with pytest.raises(TemplateError) as caught:
        template_create(
            organization=org, membership=member.memberships.get(), name="X", resource="gizmos"
        )
    assert caught.value.field == "resource" and "'gizmos'" in caught.value.message


def test_it_keeps_a_member_off_someone_elses_template(org, owner, member):
    shared = DataTemplate.objects.create(
        organization=org, created_by=owner, name="Shared", resource="contacts", is_shared=True
    )
    with pytest.raises(TemplatePermissionError):
        template_rename(template=shared, membership=member.memberships.get(), name="Mine")
    with pytest.raises(TemplatePermissionError):
        template_delete(template=shared, membership=member.memberships.get())
    assert DataTemplate.objects.get().name == "Shared" and _audits() == []


def test_it_marks_a_template_used_by_object_or_by_id_within_its_organization(
    org, other_org, member
):
    mine = DataTemplate.objects.create(organization=org, name="Mine", resource="contacts")
    template_mark_used(template=mine)
    assert mine.last_used_at is not None
    theirs = DataTemplate.objects.create(organization=other_org, name="T", resource="contacts")
    template_mark_used(template=theirs.pk, organization=org)
    theirs.refresh_from_db()
    assert theirs.last_used_at is None
