"""Type parsers and field options: each turns a cell into its field's value or a clear message."""

import datetime as dt
import gc
import weakref
from decimal import Decimal

import pytest

from business.models import Contact, Customer, Lead, SalesOrderLine
from business.resources import resource_get
from wizard.parsing import (
    ParseError,
    choice_parser,
    date_format_guess,
    date_parser,
    datetime_parser,
    decimal_parser,
    email_parser,
    integer_parser,
    options_clean,
    parse_boolean,
    parser_for,
    text_parser,
    value_map_lookup,
)


def fails(parse, raw) -> str:
    with pytest.raises(ParseError) as exc:
        parse(raw)
    return exc.value.message


# --- integers --------------------------------------------------------------------------------


def test_it_parses_integers_in_every_common_spelling():
    parse = integer_parser()
    assert parse("42") == 42
    assert parse("-7") == -7
    assert parse("1,234") == 1234
    assert parse("1 234") == 1234
    assert parse("12.0") == 12
    assert parse(12.0) == 12
    assert parse(5) == 5


def test_it_refuses_integers_that_are_not_whole_or_not_numbers():
    parse = integer_parser()
    assert fails(parse, "12.5") == "'12.5' is not a whole number"
    assert fails(parse, "twelve") == "'twelve' is not a number"
    assert fails(parse, True) == "'True' is not a whole number"


def test_it_applies_the_positive_integer_rule_of_the_model():
    line = resource_get("sales-order-lines").get_field("line_number")
    parse = parser_for(line, SalesOrderLine._meta.get_field("line_number"))
    assert parse("3") == 3
    assert fails(parse, "-1") == "'-1' must be 0 or more"


# --- decimals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234.56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("12,5", "12.5"),
        ("(12.00)", "-12.00"),
        ("$1,234.50", "1234.50"),
        ("1 234,50 €", "1234.50"),
        ("£ 99.99", "99.99"),
        ("EUR 10,00", "10.00"),
        ("-0.5", "-0.5"),
        ("12.00-", "-12.00"),
        ("1.234.567", "1234567"),
    ],
)
def test_it_parses_decimals_written_for_people(raw, expected):
    assert decimal_parser()(raw) == Decimal(expected)


def test_it_names_a_value_that_is_not_a_number():
    assert fails(decimal_parser(), "12,5O") == "'12,5O' is not a number"
    assert fails(decimal_parser(), "NaN") == "'NaN' is not a number"
    assert fails(decimal_parser(), "Infinity") == "'Infinity' is not a number"


def test_it_follows_explicit_decimal_and_thousands_options():
    comma = decimal_parser({"decimal": ",", "thousands": "."})
    assert comma("1.234,5") == Decimal("1234.5")
    assert comma("1234") == Decimal("1234")
    dot = decimal_parser({"decimal": ".", "thousands": ","})
    assert dot("1,234") == Decimal("1234")
    assert fails(comma, "1,234.5") == "'1,234.5' is not a number"


def test_it_can_refuse_parentheses_and_currency_signs_when_asked():
    strict = decimal_parser({"negative_parentheses": False, "strip_currency": False})
    assert fails(strict, "(12.00)") == "'(12.00)' is not a number"
    assert fails(strict, "$12") == "'$12' is not a number"


def test_it_applies_the_model_decimal_places_and_digits():
    field = resource_get("products").get_field("list_price")
    from business.models import Product

    parse = parser_for(field, Product._meta.get_field("list_price"))
    assert parse("12.50") == Decimal("12.50")
    assert parse("12.500") == Decimal("12.5")
    assert fails(parse, "12.345") == "'12.345' has more than 2 decimal places"
    assert "too large" in fails(parse, "1234567890123")


# --- dates -----------------------------------------------------------------------------------


def test_it_guesses_a_column_date_format_from_its_values():
    assert date_format_guess(["31/12/2024", "01/02/2024"]) == ("%d/%m/%Y", None)
    assert date_format_guess(["12/31/2024", "02/01/2024"]) == ("%m/%d/%Y", None)
    assert date_format_guess(["2024-03-31", "2024-01-05"]) == ("%Y-%m-%d", None)
    assert date_format_guess(["31.12.2024"]) == ("%d.%m.%Y", None)
    assert date_format_guess(["5 Mar 2024", "17 Apr 2024"]) == ("%d %b %Y", None)


def test_it_reports_day_month_ambiguity():
    assert date_format_guess(["03/04/2024", "05/06/2024"]) == ("%d/%m/%Y", "%m/%d/%Y")


def test_it_guesses_despite_a_few_bad_cells():
    assert date_format_guess(["31/12/2024", "13/13/2024", "01/02/2024"])[0] == "%d/%m/%Y"
    assert date_format_guess(["nonsense", "garbage"]) == (None, None)


def test_it_parses_dates_with_the_column_format_and_always_iso():
    parse = date_parser(guessed="%m/%d/%Y")
    assert parse("12/31/2024") == dt.date(2024, 12, 31)
    assert parse("2024-12-31") == dt.date(2024, 12, 31)
    assert parse("2024-12-31 00:00:00") == dt.date(2024, 12, 31)
    assert parse(dt.datetime(2024, 1, 2, 3, 4)) == dt.date(2024, 1, 2)
    message = fails(parse, "31/12/2024")
    assert message == "'31/12/2024' is not a date in the format mm/dd/yyyy (e.g. 03/31/2024)"


def test_it_prefers_the_date_format_option_over_a_guess():
    parse = date_parser({"date_format": "%d/%m/%Y"}, guessed="%m/%d/%Y")
    assert parse("03/04/2024") == dt.date(2024, 4, 3)


def test_it_refuses_impossible_dates():
    assert fails(date_parser(), "2024-02-30") == "'2024-02-30' is not a valid date"
    assert "is not a date" in fails(date_parser(guessed="%d/%m/%Y"), "31/02/2024")


def test_it_parses_datetimes_as_aware_values():
    parse = datetime_parser()
    value = parse("2024-03-31 14:30")
    assert value.tzinfo is not None and (value.hour, value.minute) == (14, 30)
    assert parse("2024-03-31T14:30:00Z").utcoffset() == dt.timedelta(0)
    assert parse("31/03/2024 14:30").day == 31
    assert "is not a date and time" in fails(parse, "soon")


# --- booleans, e-mails, choices, text --------------------------------------------------------


@pytest.mark.parametrize("raw", ["yes", "Y", "true", "1", "x", "Oui", "ja", True])
def test_it_reads_true_words(raw):
    assert parse_boolean(raw) is True


@pytest.mark.parametrize("raw", ["no", "N", "false", "0", "non", "nein", False])
def test_it_reads_false_words(raw):
    assert parse_boolean(raw) is False


def test_it_refuses_other_booleans():
    assert fails(parse_boolean, "maybe").startswith("'maybe' is not yes or no")


def test_it_validates_emails_and_lowercases_only_the_domain():
    parse = email_parser()
    assert parse("Ada.Lovelace@Example.COM") == "Ada.Lovelace@example.com"
    assert parse("mailto:ada@example.com") == "ada@example.com"
    assert parse("joe@EXÄMPLE.de") == "joe@exämple.de"
    assert fails(parse, "ada@") == "'ada@' is not a valid e-mail address"
    assert fails(parse, "ada.example.com") == "'ada.example.com' is not a valid e-mail address"
    assert "too long" in fails(parse, "a" * 250 + "@example.com")


def test_it_lets_a_refused_email_free_what_its_caller_holds_at_once():
    # The engine parses a batch of rows in one frame: a refused address must not keep that
    # frame (and the batch) alive until the cyclic garbage collector happens to run.
    class Batch:
        pass

    parse = email_parser()

    def caller() -> weakref.ref:
        batch = Batch()
        try:
            parse("not an address")
        except ParseError as exc:
            assert exc.message == "'not an address' is not a valid e-mail address"
        return weakref.ref(batch)

    gc.collect()
    gc.disable()
    try:
        assert caller()() is None
    finally:
        gc.enable()


def test_it_reads_choices_by_value_or_label_ignoring_case():
    parse = choice_parser(tuple(Customer.Type.choices))
    assert parse("wholesale") == "wholesale"
    assert parse("Wholesale") == "wholesale"
    assert parse(" RETAIL ") == "retail"
    assert fails(parse, "W") == "'W' is not one of: Retail, Wholesale"
    stages = choice_parser(tuple(Contact.Stage.choices))
    assert stages("Prospect") == "prospect"


def test_it_applies_max_length():
    parse = text_parser(max_length=5)
    assert parse("hello") == "hello"
    assert fails(parse, "hello!") == "'hello!' is too long (6 characters; at most 5)"
    assert text_parser()(11400.0) == "11400"


def test_it_builds_the_parser_of_each_field_type():
    contacts = resource_get("contacts")
    email = parser_for(contacts.get_field("email"), Contact._meta.get_field("email"))
    assert email("a@b.co") == "a@b.co"
    value = parser_for(
        resource_get("leads").get_field("estimated_value"), Lead._meta.get_field("estimated_value")
    )
    assert value("1.000,50") == Decimal("1000.50")


# --- options ---------------------------------------------------------------------------------


def test_it_looks_up_value_maps_exactly_then_ignoring_case():
    lookup = value_map_lookup({"Y": True, "Oui": True, "W": "wholesale"})
    assert lookup("Y") is True
    assert lookup("oui") is True
    assert lookup(" w ") == "wholesale"
    assert lookup("other") == "other"
    assert value_map_lookup({}) is None


def test_it_drops_unknown_option_names():
    cleaned = options_clean({"price": {"decimal": ",", "bogus": 1}, "name": "not a dict"})
    assert cleaned == {"price": {"decimal": ","}}


def test_it_drops_the_apostrophe_that_a_formula_injection_guard_added():
    parse = text_parser(max_length=50)
    assert parse("'+33 1 42 68 53 00") == "+33 1 42 68 53 00"
    assert parse("'=SUM(A1)") == "=SUM(A1)"
    assert parse("'-40") == "-40"
    assert parse("'@handle") == "@handle"
    # Any other apostrophe is the person's own text.
    assert parse("'tis the season") == "'tis the season"
    assert parse("''=x") == "''=x"
    assert parse("'") == "'"


def _guess_counting_everything(texts):
    """date_format_guess as it was first written: every format tried on every text."""
    from wizard.parsing import AMBIGUOUS, DATE_FORMATS, _date_reader

    def reads(fmt, text):
        try:
            _date_reader(fmt)(text)
        except ValueError:
            return False
        return True

    scores = {f: sum(reads(f, t) for t in texts) for f in DATE_FORMATS}
    top = max(scores.values())
    if top == 0 or top < len(texts) / 2:
        return None, None
    best = next(f for f in DATE_FORMATS if scores[f] == top)
    other = AMBIGUOUS.get(best)
    return (best, other) if other and scores.get(other) == top else (best, None)


@pytest.mark.parametrize(
    "texts",
    [
        ["03/04/2024"] * 10,  # ambiguous
        ["03/04/2024"] * 5 + ["x"] * 5,  # exactly half
        ["03/04/2024"] * 4 + ["x"] * 6,  # fewer than half
        ["12 Mar 2024"] * 6 + ["12/03/2024"] * 4,  # month names win
        ["12 Mar 2024"] * 5 + ["12/03/2024"] * 5,  # a tie, DATE_FORMATS' order decides
        ["Mar 12, 2024", "March 12, 2024", "12-Mar-24", "20240312", "2024.03.12", ""],
        ["31/12/24", "01/02/24", "nonsense", "12/31/24"],
    ],
)
def test_the_guess_is_the_same_as_counting_every_format_on_every_text(texts):
    assert date_format_guess(texts) == _guess_counting_everything([t for t in texts if t])
