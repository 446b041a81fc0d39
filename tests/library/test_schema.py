"""One shape for a template's mapping, options and rules — checked by every door."""

from __future__ import annotations

import pytest

from library.models import DataTemplate
from library.schema import TemplateShapeError, template_problem, template_validate

pytestmark = pytest.mark.django_db

URL = "/api/v1/templates/"

GOOD_IMPORT = {
    "mapping": {"E-mail": "email", "Notes": "", "Skip": None},
    "options": {
        "country": {"default": "France"},
        "source": {"constant": "CRM"},
        "do_not_email": {"value_map": {"Oui": "true", "Non": False}},
        "birthday": {"date_format": "%d/%m/%Y"},
        "notes": {"join": ["A", "B"], "join_with": " / "},
    },
    "rules": {"phone": {"required": True, "regex": r"^\+", "min": 3, "max": "20"}},
}

# (part, value, words the message must contain)
BAD = [
    ("mapping", {"Email": ["email"]}, "column 'Email'"),
    ("mapping", ["Email"], "object"),
    ("options", {"country": "France"}, "options of 'country'"),
    ("options", {"country": {"colour": "red"}}, "Unknown option colour"),
    ("options", {"flag": {"value_map": ["Oui", "true"]}}, "value map of 'flag'"),
    ("options", {"flag": {"value_map": {"Oui": {"x": 1}}}}, "value map of 'flag' for 'Oui'"),
    ("options", {"birthday": {"date_format": "dd/mm"}}, "date format of 'birthday'"),
    ("options", {"notes": {"join": "A"}}, "joined columns of 'notes'"),
    ("options", {"amount": {"decimal": ";"}}, "decimal separator of 'amount'"),
    ("options", {"country": {"default": ["a"]}}, "default of 'country'"),
    ("rules", {"email": [1]}, "rules of 'email'"),
    ("rules", {"email": {"required": "yes"}}, "required rule of 'email'"),
    ("rules", {"email": {"regex": "("}}, "pattern of 'email'"),
    ("rules", {"email": {"allowed": "a,b"}}, "allowed values of 'email'"),
    ("rules", {"email": {"colour": 1}}, "Unknown rule colour"),
    ("rules", {"amount": {"min": [1]}}, "min rule of 'amount'"),
]


def test_it_accepts_every_documented_shape():
    template_validate(template_type="import", **GOOD_IMPORT)
    template_validate(
        template_type="export",
        mapping={"columns": ["email"], "filters": {"status": ["new", "won"]}, "format": "csv"},
        options={"delimiter": ";", "bom": True},
        rules={},
    )


@pytest.mark.parametrize(("part", "value", "words"), BAD)
def test_it_names_the_part_and_the_key_at_fault(part, value, words):
    shape = {"mapping": {}, "options": {}, "rules": {}, part: value}
    with pytest.raises(TemplateShapeError) as caught:
        template_validate(template_type="import", **shape)
    assert caught.value.field == part
    assert words in caught.value.message


@pytest.mark.parametrize(("part", "value", "words"), BAD)
def test_it_has_the_api_refuse_each_bad_shape_with_a_400_naming_the_field(
    member_api, part, value, words
):
    payload = {"name": "Odd", "resource": "contacts", part: value}
    response = member_api.post(URL, payload, format="json")
    assert response.status_code == 400, response.json()
    assert words in response.json()["details"][part][0]
    assert not DataTemplate.objects.exists()


def test_it_has_the_api_refuse_a_bad_shape_on_update_too(member_api):
    pk = member_api.post(URL, {"name": "W", "resource": "contacts"}, format="json").json()["id"]
    response = member_api.patch(f"{URL}{pk}/", {"rules": {"email": [1]}}, format="json")
    assert response.status_code == 400
    assert "rules of 'email'" in response.json()["details"]["rules"][0]
    assert DataTemplate.objects.get().rules == {}


def test_it_refuses_export_templates_with_import_shapes(member_api):
    response = member_api.post(
        URL,
        {"name": "E", "resource": "contacts", "type": "export", "mapping": {"Email": "email"}},
        format="json",
    )
    assert response.status_code == 400
    assert "Unknown export setting Email" in response.json()["details"]["mapping"][0]


def test_it_tells_what_is_wrong_with_a_stored_template_without_raising():
    odd = DataTemplate(template_type="import", mapping={"Email": ["email"]}, options={}, rules={})
    assert "column 'Email'" in template_problem(odd)
    assert template_problem(DataTemplate(template_type="import", **GOOD_IMPORT)) == ""
