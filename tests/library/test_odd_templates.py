"""A template stored in an odd shape (old data, a direct database write) never breaks a page:
it is flagged "needs attention" with the reason, and refused where it would be applied."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from jobs.models import DataJob
from library.models import DataTemplate
from library.services import template_rename
from tests.wizard.test_wizard_views import start, upload

pytestmark = pytest.mark.django_db

ODD_IMPORTS = [
    {"mapping": {"Email": ["email"]}},
    {"mapping": ["Email", "email"]},
    {"rules": {"email": [1]}},
    {"options": {"email": "x"}},
]


def _odd(org, user, name="Odd", **parts) -> DataTemplate:
    # Written straight to the database, past every check, as old data would be.
    template = DataTemplate.objects.create(
        organization=org, created_by=user, name=name, resource="contacts", is_shared=True
    )
    DataTemplate.objects.filter(pk=template.pk).update(**parts)
    template.refresh_from_db()
    return template


@pytest.mark.parametrize("parts", ODD_IMPORTS)
def test_it_flags_an_odd_template_in_the_library_instead_of_failing(
    member_client, owner_client, org, owner, parts
):
    template = _odd(org, owner, **parts)
    for client in (member_client, owner_client):
        response = client.get(reverse("library:templates"))
        assert response.status_code == 200
        body = response.content.decode()
        assert "Needs attention" in body and "Odd" in body
    edit = owner_client.get(reverse("library:template_edit", args=[template.pk]))
    assert edit.status_code == 200
    assert "This template needs attention." in edit.content.decode()


def test_it_lets_an_admin_fix_an_odd_template_and_clears_the_flag(owner_client, org, owner):
    template = _odd(org, owner, rules={"email": [1]})
    owner = owner.memberships.get()
    template_rename(template=template, membership=owner, name="Renamed")
    template.refresh_from_db()
    assert template.name == "Renamed"  # renaming needs no repair first
    owner_client.post(
        reverse("library:template_edit", args=[template.pk]),
        {
            "name": "Renamed",
            "resource": "contacts",
            "on_duplicate": "skip",
            "mode": "skip-invalid",
            "is_active": "on",
            "map_header_0": "Email",
            "map_field_0": "email",
            "f-email-required": "on",
        },
    )
    template.refresh_from_db()
    assert template.rules == {"email": {"required": True}}
    body = owner_client.get(reverse("library:templates")).content.decode()
    assert "Needs attention" not in body


@pytest.mark.parametrize("parts", ODD_IMPORTS)
def test_it_uploads_and_maps_without_proposing_an_odd_template(member_client, org, owner, parts):
    _odd(org, owner, **parts)
    page = member_client.get(reverse("wizard:start"))
    assert page.status_code == 200
    job = start(member_client)  # the odd template covers "Email": never proposed
    mapping = member_client.get(reverse("wizard:map", args=[job.pk]))
    assert mapping.status_code == 200
    assert "template" not in job.params or not job.params.get("template_id")


def test_it_refuses_to_start_from_an_odd_template_with_the_reason(member_client, org, owner):
    template = _odd(org, owner, rules={"email": [1]})
    response = member_client.post(
        reverse("wizard:start"), {"resource": "contacts", "file": upload(), "template": template.pk}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "needs attention" in body and "rules of &#x27;email&#x27;" in body
    assert not DataJob.objects.filter(params__template_id=template.pk).exists()


def test_it_refuses_to_apply_an_odd_template_on_the_mapping_step(member_client, org, owner):
    job = start(member_client)
    template = _odd(org, owner, mapping={"Email": ["email"]})
    response = member_client.post(
        reverse("wizard:map", args=[job.pk]),
        {"action": "apply-template", "template": template.pk},
        follow=True,
    )
    assert response.status_code == 200
    assert "needs attention" in response.content.decode()
    job.refresh_from_db()
    assert job.params.get("template_id") != template.pk


def test_it_has_the_command_line_refuse_an_odd_template(org, owner, tmp_path):
    _odd(org, owner, name="CRM", rules={"email": [1]})
    path = tmp_path / "contacts.csv"
    path.write_text("Email\na@example.com\n")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises((CommandError, SystemExit)):
        call_command(
            "import_data",
            "contacts",
            str(path),
            "--template",
            "CRM",
            "--json",
            stdout=out,
            stderr=err,
        )
    text = out.getvalue() + err.getvalue()
    assert "needs attention" in text and "rules of 'email'" in text


ODD_EXPORTS = [
    {"mapping": ["email"]},
    {"mapping": {"columns": "email", "filters": {"status": {"a": 1}}}},
    {"options": ["delimiter"]},
]


@pytest.mark.parametrize("parts", ODD_EXPORTS)
def test_it_keeps_the_export_builder_working_with_an_odd_export_template(
    owner_client, org, owner, parts
):
    template = _odd(org, owner, template_type="export", **parts)
    builder = owner_client.get(reverse("reports:export"))
    assert builder.status_code == 200
    assert "Needs attention" in builder.content.decode()  # flagged in the template list
    loaded = owner_client.get(reverse("reports:export"), {"template": template.pk})
    assert loaded.status_code == 200
    assert "needs attention" in loaded.content.decode()
    run = owner_client.post(reverse("reports:export_template_run", args=[template.pk]))
    assert run.status_code == 302
    assert not DataJob.objects.filter(job_type="export").exists()
    assert owner_client.get(reverse("library:templates")).status_code == 200
