"""Auto-mapping: template, exact, synonym, fuzzy; type awareness; required fields; templates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from business.resources import resource_get
from library.models import DataTemplate
from wizard.mapping import (
    Suggestion,
    column_kind,
    header_key,
    mapping_from_suggestions,
    mapping_missing_required,
    mapping_suggest,
    template_match,
    value_kind,
)

CONTACTS = resource_get("contacts")


def by_header(suggestions: list[Suggestion]) -> dict[str, Suggestion]:
    return {s.header: s for s in suggestions}


# --- normalisation and value kinds -----------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["E-mail Address", "email address", "EmailAddress", " E_MAIL-address "]
)
def test_it_ignores_case_spaces_and_punctuation_in_headers(text):
    assert header_key(text) == "emailaddress"


def test_it_ignores_accents_in_headers():
    assert header_key("Prénom") == header_key("PRENOM") == "prenom"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("ada@example.com", "email"),
        ("2024-03-01", "date"),
        ("01/03/2024", "date"),
        ("1.3.2024", "date"),
        ("3 Mar 2024", "date"),
        (dt.date(2024, 3, 1), "date"),
        ("1,234.56", "number"),
        ("(12.00)", "number"),
        ("€ 12,50", "number"),
        (42, "number"),
        ("yes", "bool"),
        (True, "bool"),
        ("Acme Ltd", "text"),
        ("", None),
        (None, None),
    ],
)
def test_it_recognises_the_kind_of_a_value(value, kind):
    assert value_kind(value) == kind


def test_it_gives_a_column_the_kind_most_values_share():
    assert column_kind(["2024-01-01", "2024-02-01", "", "2024-03-05"]) == "date"
    assert column_kind(["a@b.co", "c@d.co", "x@y.org", "z@w.net", "oops"]) == "email"
    assert column_kind(["2024-01-01", "Acme", "12", "a@b.co"]) == "text"
    assert column_kind(["", None]) is None


# --- suggestion order ------------------------------------------------------------------------


def test_it_matches_field_keys_and_labels_exactly():
    s = by_header(
        mapping_suggest(
            resource=CONTACTS, headers=["email", "First name", "LAST_NAME", "Job title"]
        )
    )
    assert (s["email"].field, s["email"].reason) == ("email", "exact")
    assert (s["First name"].field, s["First name"].reason) == ("first_name", "exact")
    assert (s["LAST_NAME"].field, s["LAST_NAME"].reason) == ("last_name", "exact")
    assert (s["Job title"].field, s["Job title"].reason) == ("title", "exact")
    assert all(x.score == 1.0 for x in s.values())


@pytest.mark.parametrize("header", ["E-mail Address", "email address", "EmailAddress", "Courriel"])
def test_it_matches_synonyms_whatever_the_spelling(header):
    [s] = mapping_suggest(resource=CONTACTS, headers=[header])
    assert (s.field, s.reason) == ("email", "synonym")


def test_it_matches_accented_synonyms_without_the_accent():
    [s] = mapping_suggest(resource=CONTACTS, headers=["PRENOM"])
    assert (s.field, s.reason) == ("first_name", "synonym")


def test_it_falls_back_to_fuzzy_matches_above_a_threshold():
    s = by_header(
        mapping_suggest(resource=CONTACTS, headers=["Frist Name", "Emial Adress", "Zodiac sign"])
    )
    assert (s["Frist Name"].field, s["Frist Name"].reason) == ("first_name", "similar")
    assert 0.8 <= s["Frist Name"].score < 1
    assert (s["Emial Adress"].field, s["Emial Adress"].reason) == ("email", "similar")
    assert (s["Zodiac sign"].field, s["Zodiac sign"].reason, s["Zodiac sign"].score) == (
        None,
        "",
        0,
    )


def test_it_puts_a_saved_template_before_anything_else():
    template = DataTemplate(resource="contacts", mapping={"Email": "notes", "Mail": "email"})
    s = by_header(
        mapping_suggest(resource=CONTACTS, headers=["Email", "Mail", "Surname"], template=template)
    )
    assert (s["Email"].field, s["Email"].reason) == ("notes", "template")
    assert (s["Mail"].field, s["Mail"].reason) == ("email", "template")
    assert (s["Surname"].field, s["Surname"].reason) == ("last_name", "synonym")


def test_it_matches_template_headers_loosely_and_honours_ignored_columns():
    template = DataTemplate(resource="contacts", mapping={"e-mail": "email", "First name": ""})
    s = by_header(
        mapping_suggest(resource=CONTACTS, headers=["E-Mail", "First name"], template=template)
    )
    assert (s["E-Mail"].field, s["E-Mail"].reason) == ("email", "template")
    assert (s["First name"].field, s["First name"].reason) == (None, "template")


def test_it_skips_template_fields_that_no_longer_exist():
    template = DataTemplate(resource="contacts", mapping={"Email": "fax_number"})
    [s] = mapping_suggest(resource=CONTACTS, headers=["Email"], template=template)
    assert (s.field, s.reason) == ("email", "exact")


def test_it_uses_each_field_at_most_once():
    headers = ["Email", "E-mail", "Email Address", "Mail"]
    suggestions = mapping_suggest(resource=CONTACTS, headers=headers)
    fields = [s.field for s in suggestions if s.field]
    assert fields == ["email"]
    assert suggestions[0].field == "email"
    assert [s.field for s in suggestions[1:]] == [None, None, None]


def test_it_prefers_an_exact_match_over_an_earlier_synonym_for_the_same_field():
    s = by_header(mapping_suggest(resource=CONTACTS, headers=["Mail", "Email"]))
    assert s["Email"].field == "email" and s["Email"].reason == "exact"
    assert s["Mail"].field is None


def test_it_keeps_header_order_in_the_result():
    headers = ["Zodiac", "Email", "Surname"]
    assert [s.header for s in mapping_suggest(resource=CONTACTS, headers=headers)] == headers


def test_it_accepts_a_resource_name():
    [s] = mapping_suggest(resource="products", headers=["Item Code"])
    assert (s.field, s.reason) == ("sku", "synonym")


def test_it_never_suggests_fields_that_cannot_be_imported():
    [s] = mapping_suggest(resource="accounts", headers=["Created at"])
    assert s.field is None


# --- type awareness --------------------------------------------------------------------------


def test_it_does_not_map_a_column_of_dates_to_a_quantity():
    # "Amount" is a declared synonym of an order line's quantity, but these are dates.
    headers = ["Amount"]
    rows = [["2024-01-05"], ["2024-02-11"], ["2024-03-02"]]
    [s] = mapping_suggest(resource="sales-order-lines", headers=headers, sample_rows=rows)
    assert s.field is None
    [s] = mapping_suggest(resource="sales-order-lines", headers=headers, sample_rows=[["3"], ["4"]])
    assert (s.field, s.reason) == ("quantity", "synonym")


def test_it_does_not_fuzzy_match_a_date_column_to_a_number_field():
    rows = [[dt.date(2024, 1, 5)], [dt.date(2024, 2, 1)]]
    [s] = mapping_suggest(resource="stock-items", headers=["Quantitty"], sample_rows=rows)
    assert s.field is None
    [s] = mapping_suggest(resource="stock-items", headers=["Quantitty"], sample_rows=[[5], [7]])
    assert (s.field, s.reason) == ("quantity", "similar")


def test_it_maps_a_column_of_emails_to_the_email_field_even_with_a_vague_header():
    headers = ["Who", "Name"]
    rows = [["ada@example.com", "Ada"], ["bob@example.org", "Bob"]]
    s = by_header(mapping_suggest(resource=CONTACTS, headers=headers, sample_rows=rows))
    assert (s["Who"].field, s["Who"].reason) == ("email", "similar")


def test_it_prefers_the_email_field_for_email_values_among_similar_candidates():
    # "Contact mail" is close to both e-mail and other fields; the values decide.
    rows = [["ada@example.com"], ["bob@example.org"]]
    [s] = mapping_suggest(resource="customers", headers=["E-mails"], sample_rows=rows)
    assert s.field == "email"


def test_it_ignores_ragged_sample_rows():
    rows = [["a@b.co"], [], ["c@d.co", "x", "extra"]]
    s = mapping_suggest(resource=CONTACTS, headers=["Email", "Surname"], sample_rows=rows)
    assert [x.field for x in s] == ["email", "last_name"]


def test_it_keeps_an_exact_header_even_when_values_look_wrong():
    # The user named the column after the field; validation will report the bad values.
    [s] = mapping_suggest(resource=CONTACTS, headers=["Birth date"], sample_rows=[["12"], ["7"]])
    assert (s.field, s.reason) == ("birth_date", "exact")


def test_it_returns_a_plain_mapping():
    suggestions = mapping_suggest(resource=CONTACTS, headers=["Email", "Zodiac"])
    assert mapping_from_suggestions(suggestions) == {"Email": "email"}


# --- required fields -------------------------------------------------------------------------


def test_it_reports_required_fields_left_unmapped():
    missing = mapping_missing_required(resource=CONTACTS, mapping={"Name": "first_name"})
    assert [f.name for f in missing] == ["email"]
    assert mapping_missing_required(resource=CONTACTS, mapping={"Mail": "email"}) == []


@pytest.mark.parametrize(
    "option",
    [{"constant": "x@example.com"}, {"default": "x@example.com"}, {"join": ["A", "B"]}],
)
def test_it_counts_constants_defaults_and_joins_as_filling_a_field(option):
    assert mapping_missing_required(resource=CONTACTS, mapping={}, options={"email": option}) == []


def test_it_does_not_count_blank_options():
    missing = mapping_missing_required(
        resource=CONTACTS, mapping={"x": ""}, options={"email": {"default": "  ", "join": []}}
    )
    assert [f.name for f in missing] == ["email"]


def test_it_lists_every_missing_required_field_in_declaration_order():
    missing = mapping_missing_required(resource="credit-transactions", mapping={})
    assert [f.name for f in missing] == [
        f.name for f in resource_get("credit-transactions").fields if f.required
    ]


# --- template matching -----------------------------------------------------------------------


def make_template(org, user, name, mapping, **kw):
    return DataTemplate.objects.create(
        organization=org,
        created_by=user,
        name=name,
        resource=kw.pop("resource", "contacts"),
        mapping=mapping,
        **kw,
    )


HEADERS = ["E-mail", "Prénom", "Nom", "Société", "Phone"]


@pytest.mark.django_db
def test_it_proposes_a_template_covering_most_headers(org, owner, member):
    good = make_template(
        org,
        owner,
        "CRM export",
        {"E-mail": "email", "Prenom": "first_name", "Nom": "last_name", "Société": "account"},
        is_shared=True,
    )
    make_template(org, owner, "Partial", {"E-mail": "email"}, is_shared=True)
    assert (
        template_match(organization=org, user=member, resource="contacts", headers=HEADERS) == good
    )


@pytest.mark.django_db
def test_it_proposes_nothing_below_sixty_percent(org, owner):
    make_template(org, owner, "Two of five", {"E-mail": "email", "Nom": "last_name"})
    assert (
        template_match(organization=org, user=owner, resource="contacts", headers=HEADERS) is None
    )


@pytest.mark.django_db
def test_it_only_proposes_active_visible_import_templates_of_the_resource(
    org, owner, member, other_org, other_user
):
    mapping = {h: "email" for h in HEADERS}
    make_template(org, owner, "Inactive", mapping, is_shared=True, is_active=False)
    make_template(org, owner, "Owner's own", mapping, is_shared=False)
    make_template(org, owner, "Leads", mapping, is_shared=True, resource="leads")
    make_template(org, owner, "Export", mapping, is_shared=True, template_type="export")
    make_template(other_org, other_user, "Elsewhere", mapping, is_shared=True)
    assert (
        template_match(organization=org, user=member, resource="contacts", headers=HEADERS) is None
    )
    mine = make_template(org, member, "Mine", mapping)
    assert (
        template_match(organization=org, user=member, resource="contacts", headers=HEADERS) == mine
    )


@pytest.mark.django_db
def test_it_matches_any_resource_when_none_is_given(org, owner):
    leads = make_template(org, owner, "Leads", {h: "email" for h in HEADERS}, resource="leads")
    assert template_match(organization=org, user=owner, resource=None, headers=HEADERS) == leads


@pytest.mark.django_db
def test_it_breaks_ties_by_template_precision_then_recent_use(org, owner):
    full = {h: "email" for h in HEADERS}
    loose = make_template(org, owner, "Loose", {**full, "Extra 1": "notes", "Extra 2": "title"})
    older = make_template(org, owner, "Older", full, last_used_at=timezone.now() - dt.timedelta(1))
    newer = make_template(org, owner, "Newer", full, last_used_at=timezone.now())
    found = template_match(organization=org, user=owner, resource="contacts", headers=HEADERS)
    assert found == newer
    assert found not in (loose, older)
