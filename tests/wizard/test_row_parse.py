"""The compiled row parsers (``row_parse``, ``rows_parse``): every kind of plan and cell."""

from __future__ import annotations

import datetime as dt

from business.resources import resource_get
from wizard.engine.validation import Row, plans_compile, row_parse, rows_parse

HEADERS = ["Email", "First name", "Last name", "Stage", "Do not e-mail", "Birth date", "Phone"]
MAPPING = {
    "Email": "email",
    "First name": "first_name",
    "Last name": "last_name",
    "Stage": "lifecycle_stage",
    "Do not e-mail": "do_not_email",
    "Birth date": "birth_date",
    "Phone": "phone",
}
ROWS = [
    ["a@Example.COM", " Ada ", "Lovelace", "lead", "yes", "31/03/2024", "1"],
    ["b@example.com", "Bob", "", "Prospect", "no", "01/02/1990", "'=1+2"],
    ["not-an-email", "Grace", "Hopper", "nope", "maybe", "31/02/1990", "3"],
    ["c@example.com", "x" * 500, None, "LEAD", 1, dt.date(2020, 1, 2), "4"],
    ["", "Alan", "Turing", "", "", "", "5"],
    ["d@example.com", "Too", "few"],
    ["e@example.com", "Stray", "comma", "lead", "no", "01/01/2000", "6", "", " "],
    ["f@example.com", "Linus", "Torvalds", "lead", "no", "01/01/2000", "7", "extra"],
    ["a@Example.COM", " Ada ", "Lovelace", "lead", "yes", "31/03/2024", "8"],
]


def _plans():
    return plans_compile(
        resource=resource_get("contacts"),
        headers=HEADERS,
        mapping=MAPPING,
        options={"last_name": {"default": "Unknown"}, "source": {"constant": "Web"}},
        rules={"first_name": {"regex": r"^[^0-9]*$"}, "email": {"required": True}},
        date_formats={"birth_date": "%d/%m/%Y"},
    )


def _parsed(rows):
    return [
        (r.values, [(c, v, str(t), getattr(t, "kind", "")) for c, v, t in r.errors]) for r in rows
    ]


def test_a_batch_parses_as_row_by_row():
    one = [Row(n, raw) for n, raw in enumerate(ROWS, start=2)]
    plans = _plans()
    for row in one:
        row_parse(plans, row, len(HEADERS))
    batch = [Row(n, raw) for n, raw in enumerate(ROWS, start=2)]
    rows_parse(_plans(), batch, len(HEADERS))
    assert _parsed(batch) == _parsed(one)


def test_each_kind_of_cell():
    rows = [Row(n, raw) for n, raw in enumerate(ROWS, start=2)]
    plans = _plans()
    for row in rows:
        row_parse(plans, row, len(HEADERS))
    first, second, third, fourth, fifth, short, stray, extra, again = rows
    assert first.values == {
        "email": "a@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "lifecycle_stage": "lead",
        "source": "Web",
        "do_not_email": True,
        "birth_date": dt.date(2024, 3, 31),
        "phone": "1",
    }
    assert again.values == {
        **first.values,
        "phone": "8",
    }  # read from the parsers' memos the second time
    assert second.values["phone"] == "=1+2"  # the export's formula guard taken off
    assert second.values["last_name"] == "Unknown"  # the default of a blank cell
    assert second.values["lifecycle_stage"] == "prospect"
    assert {c: t.kind for c, _, t in third.errors} == {
        "Email": "invalid_email",
        "Stage": "not_a_choice",
        "Do not e-mail": "not_yes_no",
        "Birth date": "not_a_date",
    }
    assert [c for c, _, _ in fourth.errors] == ["First name"]  # too long
    assert fourth.values["last_name"] == "Unknown"  # None takes the default too
    assert fourth.values["do_not_email"] is True
    assert fourth.values["birth_date"] == dt.date(2020, 1, 2)
    assert [(c, t.kind) for c, _, t in fifth.errors] == [("Email", "required")]
    assert fifth.values["do_not_email"] is False and fifth.values["birth_date"] is None
    assert short.values == {} and "3 values" in short.errors[0][2]
    assert stray.values["first_name"] == "Stray" and not stray.errors
    assert extra.values == {} and "8 values" in extra.errors[0][2]


def test_a_plan_added_later_is_parsed_too():
    plans = _plans()
    row_parse(plans, Row(2, ROWS[0]), len(HEADERS))
    more = plans_compile(
        resource=resource_get("contacts"),
        headers=HEADERS,
        mapping={"Phone": "title"},
        options={},
        rules={},
    )
    plans.extend(more)
    row = Row(2, ROWS[0])
    row_parse(plans, row, len(HEADERS))
    assert row.values["title"] == "1"


def test_a_blank_choice_takes_its_default_as_plain_text():
    """The declared default is a TextChoices member; a blank cell's value is its plain text, so
    that the repeats' compared values of a batch pack with marshal (not a pickle a row)."""
    from wizard.engine.identity import _pack_many

    rows = [Row(n, raw) for n, raw in enumerate(ROWS, start=2)]
    rows_parse(_plans(), rows, len(HEADERS))
    blank = rows[4]
    assert blank.values["lifecycle_stage"] == "lead"
    assert type(blank.values["lifecycle_stage"]) is str
    compared = [tuple(r.values.values()) for r in rows if len(r.values) == 8]
    assert _pack_many(compared) is not None
