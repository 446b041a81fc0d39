"""Field options and rules edited field by field, with a live check against sample values."""

from __future__ import annotations

import re

import pytest
from django.http import QueryDict
from django.urls import reverse

from library.fields import FieldSettings
from library.models import DataTemplate
from library.rules import rule_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(org, member):
    return DataTemplate.objects.create(
        organization=org,
        created_by=member,
        name="CRM",
        resource="contacts",
        mapping={"E-mail": "email", "Phone": "phone"},
        options={
            "country": {"default": "France", "join": ["A", "B"]},
            "do_not_email": {"value_map": {"Oui": "true", "Non": "false"}},
        },
        rules={"phone": {"required": True, "regex": r"^\+[0-9 ]+$"}},
    )


def _post(**fields) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            data.appendlist(key.replace("__", "-"), item)
    return data


def test_it_turns_a_card_back_into_options_and_rules_keeping_what_it_does_not_show():
    base = FieldSettings.stored(
        name="country",
        label="Country",
        is_date=False,
        exists=True,
        options={"default": "FR", "join": ["A", "B"], "join_with": " "},
        rules={"min": 2},
    )
    posted = FieldSettings.posted(
        _post(**{"f-country-default": "France", "f-country-max": "40", "f-country-allowed": ""}),
        base=base,
    )
    assert posted.options() == {"join": ["A", "B"], "join_with": " ", "default": "France"}
    assert posted.rules() == {"max": 40}


def test_it_checks_samples_in_the_engines_order():
    card = FieldSettings(
        name="status",
        label="Status",
        default="new",
        value_map=[("Oui", "yes")],
        regex=r"[A-Za-z]*",
        allowed="yes\nnew",
        samples="Oui\n\noui\nmaybe\n12\n",
    )
    results = [(r.raw, r.value, r.ok) for r in card.check()]
    assert results == [
        ("Oui", "yes", True),
        ("", "new", True),
        ("oui", "yes", True),
        ("maybe", "maybe", False),
        ("12", "12", False),
    ]
    assert "pattern" in card.check()[4].message
    assert "allowed" in card.check()[3].message


def test_it_says_a_blank_fails_a_required_field_without_default():
    card = FieldSettings(name="phone", label="Phone", required=True, samples="\n+33 1\n")
    assert [(r.ok, r.message) for r in card.check()] == [
        (False, "Required, and blank"),
        (True, ""),
    ]


def test_it_shows_every_field_as_a_card_with_the_stored_settings(member_client, template):
    body = member_client.get(reverse("library:template_edit", args=[template.pk])).content.decode()
    assert body.count('class="field-card') >= 5
    assert 'name="f-country-default" value="France"' in body
    assert 'name="f-do_not_email-vm-from" value="Oui"' in body
    assert 'name="f-phone-required" checked' in body
    assert "options_json" not in body and "rules_json" not in body


def test_it_saves_the_cards_and_keeps_options_the_form_does_not_show(member_client, template):
    data = {
        "name": "CRM",
        "resource": "contacts",
        "on_duplicate": "skip",
        "mode": "skip-invalid",
        "is_active": "on",
        "map_header_0": "E-mail",
        "map_field_0": "email",
        "f-country-default": "Belgique",
        "f-do_not_email-vm-from": ["Oui", "Non", "Peut-être"],
        "f-do_not_email-vm-to": ["true", "false", ""],
        "f-phone-regex": r"^\+",
        "f-first_name-constant": "Unknown",
    }
    response = member_client.post(reverse("library:template_edit", args=[template.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    template.refresh_from_db()
    assert template.options == {
        "country": {"default": "Belgique", "join": ["A", "B"]},
        "do_not_email": {"value_map": {"Oui": "true", "Non": "false", "Peut-être": ""}},
        "first_name": {"constant": "Unknown"},
    }
    assert template.rules == {"phone": {"regex": r"^\+"}}  # "required" unticked


def test_it_adds_and_removes_value_map_rows_with_partials(member_client):
    url = reverse("library:template_value_map_row")
    row = member_client.get(url, {"field": "do_not_email"}, HTTP_HX_REQUEST="true")
    assert row.status_code == 200
    html = row.content.decode()
    assert html.strip().startswith("<tr>") and 'name="f-do_not_email-vm-from"' in html
    removed = member_client.get(url, {"remove": "1"}, HTTP_HX_REQUEST="true")
    assert removed.status_code == 200 and removed.content == b""


def test_it_checks_sample_values_live_without_saving(member_client, template):
    response = member_client.post(
        reverse("library:template_field_check", args=[template.pk]),
        {
            "field": "phone",
            "f-phone-required": "on",
            "f-phone-regex": r"^\+[0-9 ]+$",
            "f-phone-samples": "+33 1 23\n06 12\n\n",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="pass"') == 1 and html.count('class="fail"') == 1
    # The import engine's words (library/rules.py), so the live check says what an import will.
    assert "&#x27;06 12&#x27; does not match the expected pattern" in html
    template.refresh_from_db()
    assert template.rules == {"phone": {"required": True, "regex": r"^\+[0-9 ]+$"}}


def test_it_answers_404_to_a_live_check_on_another_organizations_template(other_client, template):
    url = reverse("library:template_field_check", args=[template.pk])
    assert other_client.post(url, {"field": "phone"}).status_code == 404


def test_it_checks_the_pattern_on_the_value_the_import_checks_with_its_words():
    # The engine applies the pattern after the value map (library/rules.py is the one rule).
    card = FieldSettings(
        name="source",
        label="Source",
        value_map=[("Téléphone", "phone")],
        regex=r"[a-z]+",
        samples="Téléphone\nFax\n",
    )
    results = card.check()
    assert [(r.value, r.ok) for r in results] == [("phone", True), ("Fax", False)]
    engine = rule_problem(pattern=re.compile(r"[a-z]+"), rules={}, raw="Fax", value="Fax")
    assert results[1].message == engine == "'Fax' does not match the expected pattern [a-z]+"
