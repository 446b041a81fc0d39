"""Type parsers for imported cells, and the per-field options that shape them.

A parser turns one raw cell (already stripped, never blank) into the Python value the model
field stores, or raises ``ParseError`` whose message names the value in words a person
understands ("'12,5O' is not a number"); the engine prefixes row and column.

Parsers are built once per column (``parser_for``) so the per-row work is a single call; the
common shapes (ISO dates, plain numbers) take a fast path before anything clever.

Field options (all optional, per field):
    default, constant, join + join_with, value_map, date_format, decimal, thousands,
    negative_parentheses, strip_currency
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from business.resources import Field, FieldType
from business.writers.base import neutralize_undo
from library.rules import quote

T = FieldType

OPTION_NAMES = (
    "default",
    "constant",
    "join",
    "join_with",
    "value_map",
    "date_format",
    "decimal",
    "thousands",
    "negative_parentheses",
    "strip_currency",
)
# How an import treats money and decimals with more places than the field keeps: refused
# (the default: a person decides), or rounded half-up (commercial) or half-even (banker's).
ROUNDINGS = {"reject": None, "half-up": ROUND_HALF_UP, "half-even": ROUND_HALF_EVEN}
RULE_NAMES = ("required", "min", "max", "regex", "allowed", "unique")


class ParseError(ValueError):
    """A cell that cannot become its field's type; the message is safe to show.

    ``kind`` names the problem for grouping ("decimal_places", "not_a_date"): a file whose
    10,000 rows fail the same way gets one line in the summary, with the fix it needs.
    """

    def __init__(self, message: str, *, kind: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.kind = kind


# --- booleans --------------------------------------------------------------------------------

TRUE_WORDS = frozenset(
    {"1", "true", "t", "yes", "y", "x", "on", "oui", "o", "ja", "j", "si", "sí", "vrai", "checked"}
)
FALSE_WORDS = frozenset(
    {"0", "false", "f", "no", "n", "off", "non", "nein", "faux", "unchecked", "-"}
)


# The words as written most of the time (a cell already stripped): one lookup.
_BOOLEAN_WORDS = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}


def parse_boolean(raw: Any) -> bool:
    if raw.__class__ is str:
        found = _BOOLEAN_WORDS.get(raw)
        if found is not None:
            return found
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ParseError(f"{quote(raw)} is not yes or no (use yes/no, true/false or 1/0)")


parse_boolean.memo = _BOOLEAN_WORDS  # type: ignore[attr-defined]


# --- numbers ---------------------------------------------------------------------------------

_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_CURRENCY = re.compile(r"^(?:[A-Z]{3}\s*)|(?:\s*[A-Z]{3})$|[$€£¥₹₽₩₪฿₺₫¢]|\s*(?:kr|zł|Kč|Fr\.?)\s*")
_SPACES = re.compile(r"[\s\u00a0\u202f']")


def number_normalise(
    raw: str,
    *,
    decimal: str | None = None,
    thousands: str | None = None,
    negative_parentheses: bool = True,
    strip_currency: bool = True,
) -> str:
    """A number written for people ("(1.234,56 €)") as a plain string ("-1234.56")."""
    text = raw.strip()
    negative = False
    if negative_parentheses and text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    if strip_currency:
        text = _CURRENCY.sub("", text).strip()
    if text.endswith("-") and text[:-1].replace(",", "").replace(".", "").isdigit():
        negative, text = True, text[:-1]  # accounting exports: "12.00-"
    if text.startswith(("-", "+")):
        negative ^= text[0] == "-"
        text = text[1:].strip()
    if thousands == " " or thousands is None:
        text = _SPACES.sub("", text)
    if decimal is None:
        decimal, thousands_guess = _guess_separators(text)
        if thousands is None:
            thousands = thousands_guess
    elif thousands and not re.fullmatch(
        rf"\d+(?:{re.escape(decimal)}\d+)?|\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+(?:{re.escape(decimal)}\d+)?",
        text,
    ):
        # Separators were given: digits must be grouped the way they say.
        raise ParseError(f"{quote(raw)} is not a number")
    if thousands:
        text = text.replace(thousands, "")
    if decimal != ".":
        if "." in text:
            # With "," as the decimal mark a dot can only be a misplaced thousands separator.
            raise ParseError(f"{quote(raw)} is not a number")
        text = text.replace(decimal, ".")
    if not _PLAIN_NUMBER.match(text):
        raise ParseError(f"{quote(raw)} is not a number")
    return "-" + text if negative else text


def _guess_separators(text: str) -> tuple[str, str]:
    """Which of ',' and '.' is the decimal mark, from the value itself."""
    has_comma, has_dot = "," in text, "." in text
    if has_comma and has_dot:
        # The later one is the decimal mark: 1.234,56 / 1,234.56
        return (",", ".") if text.rfind(",") > text.rfind(".") else (".", ",")
    if has_comma:
        # 1,234,567 or 12,345 read as thousands; 12,5 and 0,25 as a decimal comma.
        if (
            re.fullmatch(r"\d{1,3}(,\d{3})+", text)
            and text.count(",") >= 1
            and not text.startswith("0,")
        ):
            return ".", ","
        return ",", ""
    if has_dot and text.count(".") > 1:
        return ",", "."  # 1.234.567
    return ".", ""


def _number_options(options: dict) -> dict:
    return {
        "decimal": options.get("decimal") or None,
        "thousands": options.get("thousands") if options.get("thousands") is not None else None,
        "negative_parentheses": bool(options.get("negative_parentheses", True)),
        "strip_currency": bool(options.get("strip_currency", True)),
    }


def decimal_parser(
    options: dict | None = None,
    *,
    max_digits: int | None = None,
    decimal_places: int | None = None,
    rounding: str | None = None,
    tally: Counter | None = None,
) -> Callable[[Any], Decimal]:
    """Numbers; more decimal places than the field keeps are refused unless ``rounding`` is
    half-up or half-even (each rounded value then counts in ``tally["rounded"]``)."""
    opts = _number_options(options or {})
    plain = _PLAIN_NUMBER.match
    mode = ROUNDINGS.get(rounding or "reject")
    quantum = Decimal(1).scaleb(-decimal_places) if decimal_places is not None else None

    def parse(raw: Any) -> Decimal:
        if isinstance(raw, bool):
            raise ParseError(f"{quote(raw)} is not a number")
        if isinstance(raw, int | Decimal):
            value = Decimal(raw)
        elif isinstance(raw, float):
            value = Decimal(repr(raw))
        else:
            text = raw if plain(raw) else number_normalise(raw, **opts)
            try:
                value = Decimal(text)
            except InvalidOperation as exc:
                raise ParseError(f"{quote(raw)} is not a number") from exc
        if not value.is_finite():
            raise ParseError(f"{quote(raw)} is not a number")
        if decimal_places is not None:
            exponent = value.as_tuple().exponent
            if isinstance(exponent, int) and -exponent > decimal_places:
                stripped = value.normalize()
                exp = stripped.as_tuple().exponent
                if isinstance(exp, int) and -exp > decimal_places:
                    if mode is None:
                        raise ParseError(
                            f"{quote(raw)} has more than {decimal_places} decimal places",
                            kind="decimal_places",
                        )
                    stripped = value.quantize(quantum, rounding=mode)
                    if tally is not None:
                        tally["rounded"] += 1
                value = stripped
            if max_digits is not None:
                whole = len(str(abs(int(value)))) if abs(value) >= 1 else 0
                if whole > max_digits - decimal_places:
                    raise ParseError(
                        f"{quote(raw)} is too large (at most {max_digits - decimal_places} digits before the decimal mark)"
                    )
        return value

    return parse


def integer_parser(
    options: dict | None = None, *, minimum: int | None = None
) -> Callable[[Any], int]:
    opts = _number_options(options or {})

    def parse(raw: Any) -> int:
        if isinstance(raw, bool):
            raise ParseError(f"{quote(raw)} is not a whole number")
        if isinstance(raw, int):
            value = raw
        elif isinstance(raw, float):
            if not raw.is_integer():
                raise ParseError(f"{quote(raw)} is not a whole number")
            value = int(raw)
        else:
            try:
                value = int(raw)
            except ValueError:
                text = number_normalise(raw, **opts)
                number = Decimal(text)
                if number != number.to_integral_value():
                    raise ParseError(f"{quote(raw)} is not a whole number") from None
                value = int(number)
        if minimum is not None and value < minimum:
            raise ParseError(f"{quote(raw)} must be {minimum} or more")
        return value

    return parse


# --- dates -----------------------------------------------------------------------------------

# Values a parser remembers having read (a column's repeated dates, a choice's spellings): a
# dictionary lookup instead of the parse. Bounded, so a column of all-different values costs
# at most this many entries (a few MB); only values that parsed are kept.
MEMO_LIMIT = 20_000

# Formats tried when guessing a column's format, most specific first. Day-first wins a tie
# with month-first, and that tie is reported as a warning.
DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d.%m.%y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%d-%b-%y",
    "%Y%m%d",
)
TIME_SUFFIXES = ("", " %H:%M", " %H:%M:%S", "T%H:%M", "T%H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
# Pairs that read the same text differently: a column fitting both is ambiguous.
AMBIGUOUS = {
    "%d/%m/%Y": "%m/%d/%Y",
    "%d-%m-%Y": "%m-%d-%Y",
    "%d/%m/%y": "%m/%d/%y",
}
AMBIGUOUS.update({v: k for k, v in list(AMBIGUOUS.items())})

_NUMERIC_DATE = {
    "%d/%m/%Y": (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), (2, 1, 0)),
    "%m/%d/%Y": (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), (2, 0, 1)),
    "%d.%m.%Y": (re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"), (2, 1, 0)),
    "%d-%m-%Y": (re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$"), (2, 1, 0)),
    "%m-%d-%Y": (re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$"), (2, 0, 1)),
    "%Y/%m/%d": (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), (0, 1, 2)),
    "%Y.%m.%d": (re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"), (0, 1, 2)),
}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]00:00(:00(\.0+)?)?$")


def _date_reader(fmt: str) -> Callable[[str], dt.date]:
    numeric = _NUMERIC_DATE.get(fmt)
    if numeric is not None:
        regex, (yi, mi, di) = numeric
        match = regex.match

        def read(text: str) -> dt.date:
            m = match(text)
            if m is None:
                raise ValueError(text)
            parts = m.groups()
            return dt.date(int(parts[yi]), int(parts[mi]), int(parts[di]))

        return read
    if fmt == "%Y-%m-%d":
        return dt.date.fromisoformat

    strptime = dt.datetime.strptime

    def read_any(text: str) -> dt.date:
        return strptime(text, fmt).date()

    return read_any


def _score(fmt: str, texts: Sequence[str], most_misses: float) -> int:
    """How many of ``texts`` the format reads, counted until it has missed more than
    ``most_misses``: past that its count cannot decide the guess, and most formats miss
    every text of a column (their ``strptime`` costs ~8 µs a miss)."""
    if most_misses < 0:
        return 0
    read = _date_reader(fmt)
    score = misses = 0
    for text in texts:
        try:
            read(text)
        except ValueError:
            misses += 1
            if misses > most_misses:
                break
            continue
        score += 1
    return score


def date_format_guess(values: Iterable[Any]) -> tuple[str | None, str | None]:
    """The date format that reads the most samples, and the one it could be confused with.

    Returns (format, ambiguous_with). ``format`` is None when no format reads at least half
    of them (each value is then tried on its own); ``ambiguous_with`` names the month/day-
    swapped format when it reads just as many (e.g. only 03/04/2024-style values).
    """
    texts = []
    for value in values:
        if value is None or isinstance(value, dt.date):
            continue
        text = _date_part(str(value).strip())
        if text:
            texts.append(text)
        if len(texts) >= 500:
            break
    if not texts:
        return None, None
    # The format reading the most samples wins (a few bad cells must not hide it); ties keep
    # the order of DATE_FORMATS, so day-first beats month-first, and that tie is reported.
    # A format missing more than half reads fewer than the winner must: it is not counted on.
    # A month's name (strptime's, in the C locale Ferry runs in) has letters: a format with
    # one misses every text without any, so those are not tried.
    lettered = [t for t in texts if t.lower() != t.upper()]
    half = len(texts) / 2
    scores = {
        f: _score(f, lettered, half - (len(texts) - len(lettered)))
        if "%b" in f or "%B" in f
        else _score(f, texts, half)
        for f in DATE_FORMATS
    }
    top = max(scores.values())
    if top == 0 or top < half:
        return None, None
    best = next(f for f in DATE_FORMATS if scores[f] == top)
    other = AMBIGUOUS.get(best)
    if other and scores.get(other) == top:
        return best, other
    return best, None


# Excel stores a day as a number of days since its epoch: 1899-12-30 in the 1900 system (which
# counts a 29 February 1900 that never was, so serials from 61 on line up with that epoch) and
# 1904-01-01 in the 1904 system of older Mac workbooks. A cell that lost its date format shows
# the bare number (29358 is 17 May 1980).
EXCEL_DATE_FORMATS = {"excel-1900": dt.date(1899, 12, 30), "excel-1904": dt.date(1904, 1, 1)}
# Numbers taken for possible dates when offering to read a column as Excel dates: 1 Jan 1902 to
# 31 Dec 2099 in the 1900 system. Smaller numbers are far more often quantities or codes.
EXCEL_SERIAL_PLAUSIBLE = (732, 73050)
_EXCEL_SERIAL_MAX = 2958465  # 31 Dec 9999
_SERIAL_TEXT = re.compile(r"^\d{1,7}(?:\.\d+)?$")


def excel_serial_number(raw: Any) -> float | None:
    """The number in a cell that could be an Excel date serial (29358, '29358', 29358.5)."""
    if isinstance(raw, bool | dt.date):
        return None
    if isinstance(raw, int | float | Decimal):
        number = float(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if not _SERIAL_TEXT.match(text):
            return None
        number = float(text)
    else:
        return None
    return number if 0 < number <= _EXCEL_SERIAL_MAX else None


def excel_serials_plausible(values: Iterable[Any]) -> bool:
    """Whether every non-blank value is a number that reads as a 1902–2099 Excel date."""
    low, high = EXCEL_SERIAL_PLAUSIBLE
    seen = False
    for value in values:
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        number = excel_serial_number(value)
        if number is None or not low <= number <= high:
            return False
        seen = True
    return seen


def excel_serial_datetime(number: float, fmt: str) -> dt.datetime:
    """The day (and time, from the fraction) an Excel serial stands for."""
    days = int(number)
    epoch = EXCEL_DATE_FORMATS[fmt]
    if fmt == "excel-1900" and days < 61:
        if days == 60:
            raise ParseError(
                "60 is 29 February 1900 in Excel, a day that never was", kind="not_a_date"
            )
        epoch = dt.date(1899, 12, 31)
    start = dt.datetime(epoch.year, epoch.month, epoch.day)
    seconds = round((number - days) * 86400)
    return start + dt.timedelta(days=days, seconds=seconds)


def _excel_reader(fmt: str) -> Callable[[Any], dt.datetime]:
    label = human_format(fmt)

    def read(raw: Any) -> dt.datetime:
        if isinstance(raw, dt.datetime):
            return raw
        if isinstance(raw, dt.date):
            return dt.datetime(raw.year, raw.month, raw.day)
        number = excel_serial_number(raw)
        if number is None:
            text = str(raw).strip()
            if _ISO_DATE.match(text):
                try:
                    day = dt.date.fromisoformat(text)
                except ValueError:
                    pass
                else:
                    return dt.datetime(day.year, day.month, day.day)
            raise ParseError(f"{quote(raw)} is not {label}", kind="not_a_date")
        try:
            return excel_serial_datetime(number, fmt)
        except OverflowError:
            raise ParseError(f"{quote(raw)} is not {label}", kind="not_a_date") from None

    return read


def _serial_hint(raw: Any) -> str:
    number = excel_serial_number(raw)
    low, high = EXCEL_SERIAL_PLAUSIBLE
    if number is None or not low <= number <= high:
        return ""
    day = excel_serial_datetime(number, "excel-1900").date()
    return (
        f"; it looks like an Excel date number ({day:%-d %b %Y} in Excel's 1900 system): "
        "set this column's date format to Excel dates"
    )


def _date_part(text: str) -> str:
    """The date portion of a date-time text (for guessing the date format)."""
    m = re.match(
        r"^(.*?\d)(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?(?:Z|[+-]\d{2}:?\d{2})?)$",
        text,
    )
    return m.group(1) if m else text


def date_parser(
    options: dict | None = None, *, guessed: str | None = None
) -> Callable[[Any], dt.date]:
    """Dates: the option's format, else the column's guessed format, else any known format.

    ISO 8601 is always accepted: it is unambiguous, and spreadsheet readers produce it.
    """
    fmt = (options or {}).get("date_format") or guessed
    if fmt in EXCEL_DATE_FORMATS:
        excel = _excel_reader(fmt)
        return lambda raw: excel(raw).date()
    primary = _date_reader(fmt) if fmt else None
    fallbacks = [_date_reader(f) for f in DATE_FORMATS if f != fmt and f not in AMBIGUOUS]
    # Texts read so far: a date column repeats its days (order dates, a birthday in 18,000).
    seen: dict[str, dt.date] = {}

    # A text in the column's own format is read by it directly (``read`` tries it first
    # too); any other text, by ``read``, which says why it is not a date.
    first = primary if primary is not None and fmt != "%Y-%m-%d" else None

    def parse(raw: Any) -> dt.date:
        if raw.__class__ is str:
            day = seen.get(raw)
            if day is None:
                if first is None:
                    day = read(raw)
                else:
                    try:
                        day = first(raw)
                    except ValueError:
                        day = read(raw)
                if len(seen) < MEMO_LIMIT:
                    seen[raw] = day
            return day
        return read(raw)

    parse.memo = seen  # type: ignore[attr-defined]
    fromiso = dt.date.fromisoformat
    iso = _ISO_DATE.match

    def read(raw: Any) -> dt.date:
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        text = raw if raw.__class__ is str else str(raw).strip()
        if primary is not None and fmt != "%Y-%m-%d":
            # The column's own format first: most cells are written that way.
            try:
                return primary(text)
            except ValueError:
                pass
        if iso(text):
            try:
                return fromiso(text)
            except ValueError:
                raise ParseError(f"{quote(raw)} is not a valid date") from None
        m = _ISO_DATETIME_DATE.match(text)
        if m:
            return fromiso(m.group(1))
        if primary is not None:
            raise ParseError(_date_message(raw, fmt) + _serial_hint(raw), kind="not_a_date")
        for reader in fallbacks:
            try:
                return reader(text)
            except ValueError:
                continue
        raise ParseError(
            f"{quote(raw)} is not a date (expected e.g. 2024-03-31){_serial_hint(raw)}",
            kind="not_a_date",
        )

    return parse


def _date_message(raw: Any, fmt: str) -> str:
    example = dt.date(2024, 3, 31).strftime(fmt)
    return f"{quote(raw)} is not a date in the format {_human_format(fmt)} (e.g. {example})"


def _human_format(fmt: str) -> str:
    return (
        fmt.replace("%d", "dd")
        .replace("%m", "mm")
        .replace("%Y", "yyyy")
        .replace("%y", "yy")
        .replace("%b", "Mon")
        .replace("%B", "Month")
        .replace("%H", "HH")
        .replace("%M", "MM")
        .replace("%S", "SS")
    )


def human_format(fmt: str) -> str:
    if fmt in EXCEL_DATE_FORMATS:
        return f"an Excel date number ({fmt.removeprefix('excel-')} system)"
    return _human_format(fmt)


def datetime_parser(
    options: dict | None = None, *, guessed: str | None = None
) -> Callable[[Any], dt.datetime]:
    """Date-times; naive values are taken in the site's time zone. A bare date is midnight."""
    fmt = (options or {}).get("date_format") or guessed
    tz = timezone.get_current_timezone()
    if fmt in EXCEL_DATE_FORMATS:
        excel = _excel_reader(fmt)

        def parse_excel(raw: Any) -> dt.datetime:
            value = excel(raw)
            return timezone.make_aware(value, tz) if timezone.is_naive(value) else value

        return parse_excel
    date_formats = (
        [fmt] if fmt else [f for f in DATE_FORMATS if f not in AMBIGUOUS or f.startswith("%d")]
    )

    def aware(value: dt.datetime) -> dt.datetime:
        if timezone.is_naive(value):
            return timezone.make_aware(value, tz)
        return value

    def parse(raw: Any) -> dt.datetime:
        if isinstance(raw, dt.datetime):
            return aware(raw)
        if isinstance(raw, dt.date):
            return aware(dt.datetime(raw.year, raw.month, raw.day))
        text = str(raw).strip()
        try:
            return aware(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            pass
        for date_fmt in date_formats:
            for suffix in TIME_SUFFIXES:
                try:
                    return aware(dt.datetime.strptime(text, date_fmt + suffix))
                except ValueError:
                    continue
        if fmt:
            raise ParseError(
                f"{quote(raw)} is not a date and time in the format {_human_format(fmt)}"
            )
        raise ParseError(f"{quote(raw)} is not a date and time (expected e.g. 2024-03-31 14:30)")

    return parse


# --- text, e-mail, choices -------------------------------------------------------------------


def text_parser(*, max_length: int | None = None) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        text = raw if isinstance(raw, str) else _text_of(raw)
        if text[:1] == "'":
            # The apostrophe Ferry's CSV exports put before a formula (business.writers).
            text = neutralize_undo(text)
        if max_length is not None and len(text) > max_length:
            raise ParseError(
                f"{quote(text)} is too long ({len(text)} characters; at most {max_length})"
            )
        return text

    # What the rules above leave alone: a text up to this long, not starting with "'".
    parse.as_is_up_to = max_length if max_length is not None else sys.maxsize  # type: ignore[attr-defined]
    return parse


def text_as_is_limit(parse: Callable[[Any], Any]) -> int | None:
    """For a text parser: the length up to which a non-empty ``str`` not starting with an
    apostrophe parses to itself, so a caller with many cells may skip the call; None for any
    other parser."""
    return getattr(parse, "as_is_up_to", None)


def parser_memo(parse: Callable[[Any], Any]) -> dict[str, Any] | None:
    """For a parser that remembers what it read: its memo, the values (never None) it returns
    for ``str`` cells it has read before, so a caller with many cells may look them up instead
    of calling it; None for a parser without one."""
    return getattr(parse, "memo", None)


def _text_of(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))  # spreadsheets store 11400 as 11400.0
    if isinstance(raw, dt.datetime):
        return raw.isoformat(sep=" ")
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return str(raw)


# A strict subset of what Django's EmailValidator accepts (ASCII dot-atom local part, a
# hostname with a letters-only TLD): the common case skips the validator's slower checks.
_SIMPLE_EMAIL = re.compile(
    r"^[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+(?:\.[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def _email_valid(text: str) -> bool:
    """Django's e-mail validator, without keeping its error alive.

    A ``ValidationError`` holds itself (``error_list = [self]``), so only the cyclic garbage
    collector frees it, and until then its traceback keeps every frame it passed through, the
    caller's whole batch of rows included. Its traceback is dropped here.
    """
    try:
        validate_email(text)
    except ValidationError as exc:
        exc.__traceback__ = None
        return False
    return True


def email_parser(*, max_length: int | None = 254) -> Callable[[Any], str]:
    simple = _SIMPLE_EMAIL.match

    def parse(raw: Any) -> str:
        if raw.__class__ is str and simple(raw) and (max_length is None or len(raw) <= max_length):
            if raw.islower():  # the usual address (its domain has letters): nothing to lower
                return raw
            local, _, domain = raw.rpartition("@")
            return raw if domain.islower() else f"{local}@{domain.lower()}"
        text = str(raw).strip()
        if text.lower().startswith("mailto:"):
            text = text[7:]
        if max_length is not None and len(text) > max_length:
            raise ParseError(
                f"{quote(text)} is too long for an e-mail address (at most {max_length})"
            )
        if not _email_valid(text):
            raise ParseError(f"{quote(raw)} is not a valid e-mail address")
        local, _, domain = text.rpartition("@")
        # Domains are case-insensitive; the local part is left as written.
        return f"{local}@{domain.lower()}"

    return parse


def choice_parser(choices: tuple[tuple[str, str], ...]) -> Callable[[Any], str]:
    """A choice by its stored value or its label, ignoring case and surrounding spaces."""
    table: dict[str, str] = {}
    for value, label in choices:
        table.setdefault(value.casefold(), value)
        table.setdefault(label.casefold(), value)
        table.setdefault(value.replace("_", " ").casefold(), value)
    allowed = ", ".join(label for _, label in choices)
    # Spellings met so far, as written ("Lead", "lead "): a column repeats a handful of them.
    seen: dict[str, str] = {}

    def parse(raw: Any) -> str:
        if raw.__class__ is str:
            found = seen.get(raw)
            if found is not None:
                return found
        found = table.get(str(raw).strip().casefold())
        if found is None:
            raise ParseError(f"{quote(raw)} is not one of: {allowed}")
        if raw.__class__ is str and len(seen) < MEMO_LIMIT:
            seen[raw] = found
        return found

    parse.memo = seen  # type: ignore[attr-defined]
    return parse


# --- assembly --------------------------------------------------------------------------------


def parser_for(
    field: Field,
    model_field=None,
    options: dict | None = None,
    *,
    guessed_date_format: str | None = None,
    rounding: str | None = None,
    tally: Counter | None = None,
) -> Callable[[Any], Any]:
    """The parser of one field, with the model field's own limits (what full_clean checks)."""
    options = options or {}
    kind = field.type
    max_length = field.max_length or getattr(model_field, "max_length", None)
    if kind == T.EMAIL:
        return email_parser(max_length=max_length or 254)
    if kind == T.INTEGER:
        minimum = (
            0 if model_field is not None and "Positive" in type(model_field).__name__ else None
        )
        return integer_parser(options, minimum=minimum)
    if kind in (T.DECIMAL, T.MONEY):
        return decimal_parser(
            options,
            max_digits=getattr(model_field, "max_digits", None),
            decimal_places=getattr(model_field, "decimal_places", None),
            rounding=rounding,
            tally=tally,
        )
    if kind == T.DATE:
        return date_parser(options, guessed=guessed_date_format)
    if kind == T.DATETIME:
        return datetime_parser(options, guessed=guessed_date_format)
    if kind == T.BOOLEAN:
        return parse_boolean
    if kind == T.CHOICE:
        return choice_parser(field.choices)
    if kind == T.JSON:
        return json_object_parse
    # Text and references (a reference's key is text until resolved).
    return text_parser(max_length=max_length)


def json_object_parse(raw: Any) -> dict:
    """A JSON object given as text (a file's cell) or already decoded (a database row source)."""
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ParseError(f'{quote(raw)} is not a JSON object such as {{"grade": "A"}}')
    return value


def options_clean(options: dict | None) -> dict[str, dict]:
    """Keep only known option names, so a stray key never reaches the parsers."""
    out: dict[str, dict] = {}
    for field, opts in (options or {}).items():
        if not isinstance(opts, dict):
            continue
        kept = {k: v for k, v in opts.items() if k in OPTION_NAMES}
        if kept:
            out[str(field)] = kept
    return out


def value_map_lookup(value_map: dict | None) -> Callable[[str], Any] | None:
    """A value map looked up exactly first, then ignoring case and spaces."""
    if not value_map:
        return None
    exact = {str(k): v for k, v in value_map.items()}
    folded = {str(k).strip().casefold(): v for k, v in value_map.items()}
    missing = object()

    def lookup(raw: str) -> Any:
        found = exact.get(raw, missing)
        if found is missing:
            found = folded.get(raw.strip().casefold(), missing)
        return raw if found is missing else found

    return lookup
