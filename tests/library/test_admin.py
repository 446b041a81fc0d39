"""The Django admin edits templates under the same shape check, and its changes are audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from business.models import AuditEvent
from library.models import DataTemplate

pytestmark = pytest.mark.django_db


def _data(owner, **changes) -> dict:
    return {
        "name": "Weekly",
        "template_type": "import",
        "resource": "contacts",
        "mapping": '{"E-mail": "email"}',
        "options": "{}",
        "rules": "{}",
        "on_duplicate": "skip",
        "mode": "skip-invalid",
        "is_active": "on",
        "created_by": owner.pk,
        **changes,
    }


def test_it_refuses_a_bad_shape_next_to_the_json_field(owner_client, owner):
    response = owner_client.post(
        reverse("admin:library_datatemplate_add"), _data(owner, rules='{"email": [1]}')
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "rules of 'email'" in errors["rules"][0]
    assert not DataTemplate.objects.exists()


def test_it_audits_adding_changing_deactivating_and_deleting(owner_client, owner, org):
    add = owner_client.post(reverse("admin:library_datatemplate_add"), _data(owner))
    assert add.status_code == 302
    template = DataTemplate.objects.get()
    change_url = reverse("admin:library_datatemplate_change", args=[template.pk])
    assert owner_client.post(change_url, _data(owner, name="Weekly CRM")).status_code == 302
    changelist = reverse("admin:library_datatemplate_changelist")
    owner_client.post(changelist, {"action": "deactivate", "_selected_action": [template.pk]})
    template.refresh_from_db()
    assert not template.is_active
    delete_url = reverse("admin:library_datatemplate_delete", args=[template.pk])
    assert owner_client.post(delete_url, {"post": "yes"}).status_code == 302
    events = AuditEvent.objects.filter(event_type=AuditEvent.Type.TEMPLATE).order_by("pk")
    assert [e.details["action"] for e in events] == ["created", "updated", "updated", "deleted"]
    assert "name" in events[1].details["fields"]
    assert events[2].details["fields"] == ["is_active"]
    assert {e.details["via"] for e in events} == {"admin"}
    assert {e.organization for e in events} == {org} and {e.user for e in events} == {owner}
