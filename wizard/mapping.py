"""Auto-mapping of file columns to resource fields, and matching files to saved templates.

A column's field is chosen on its header and its values together. The header proposes
candidates in a fixed order of trust: a saved template, then what someone in the organization
chose for this header before (learned from corrections, see ``wizard.learning``), then exact
key/label matches, declared synonyms and fuzzy similarity. The values then decide: a synonym or
fuzzy candidate must accept a large majority of the column's sampled values (choices, yes/no,
numbers, dates, e-mails, references that resolve against the organization's records), so a
column of US states never becomes a lifecycle stage and numeric IDs never become category
names. A column of unique codes prefers the resource's key field. Every suggestion — and every
column left unmapped — carries its reason in words, shown next to the column.

Header comparison ignores case, accents, spaces and punctuation ("E-mail Address" ==
"email address" == "EmailAddress").
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rapidfuzz import fuzz

from business.resources import Field, FieldType, resource_get
from library.schema import template_problem
from library.selectors import templates_offered
from wizard.parsing import (
    ParseError,
    date_format_guess,
    excel_serials_plausible,
    parser_for,
)

TEMPLATE = "template"
LEARNED = "learned"
EXACT = "exact"
SYNONYM = "synonym"
SIMILAR = "similar"
REASONS = (TEMPLATE, LEARNED, EXACT, SYNONYM, SIMILAR)
# A suggestion made on the values alone (unique codes → the key, e-mails → the e-mail field)
# ranks below any header match; its badge says "similar" and its words say why.
VALUES = "values"

# Below this similarity (0–100) a fuzzy match is more often wrong than right.
FUZZY_THRESHOLD = 80.0
# Very short headers ("id", "no") make fuzzy scores meaningless.
FUZZY_MIN_LENGTH = 3
# Fuzzy candidates must be of comparable length (shorter ≥ this share of the longer).
LENGTH_SHARE = 0.75
# How much a matching value kind lifts a fuzzy candidate when ranking.
KIND_BONUS = 8.0
# A column "is" dates/numbers/e-mails when this share of its non-blank samples are.
KIND_SHARE = 0.8
# A guessed field must accept this share of the column's non-blank sampled values: "a large
# majority" — a few bad cells are the preview's business, a misfit column is not.
FIT_SHARE = 0.8
# A template is proposed when its mapping names at least this share of the file's headers.
TEMPLATE_MATCH_SHARE = 0.6
# Header words that announce an identifier (a column of codes named "Product ID").
ID_WORDS = frozenset({"id", "code", "ref", "reference", "number", "no", "nr", "num", "key", "sku"})

TIER = {TEMPLATE: 6, LEARNED: 5, EXACT: 4, SYNONYM: 3, SIMILAR: 2, VALUES: 1}


@dataclass
class Suggestion:
    header: str
    field: str | None
    reason: str  # one of REASONS, or "" when the column is left unmapped
    score: float
    # The reason in words, for people: "header matches synonym 'Product ID'; 100 % of sampled
    # values fit", or why the column is left unmapped.
    why: str = ""


# --- normalisation -------------------------------------------------------------------------


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def header_key(text: Any) -> str:
    """The comparison key of a header: lower case, no accents, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", _strip_accents(str(text or "")).casefold())


def _words(text: str) -> str:
    """Lower-case words of a header, splitting camelCase and snake_case, for token matching."""
    text = _strip_accents(str(text or ""))
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return " ".join(re.findall(r"[0-9a-z]+", text.casefold()))


# --- value kinds (type awareness) ----------------------------------------------------------

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE_RES = (
    re.compile(
        r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
    ),
    re.compile(r"^\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}( \d{1,2}:\d{2}(:\d{2})?)?$"),
    re.compile(r"^\d{4}/\d{1,2}/\d{1,2}$"),
    re.compile(r"^\d{1,2}[ \-][A-Za-z]{3,9}[ \-,]+\d{2,4}$"),
    re.compile(r"^[A-Za-z]{3,9} \d{1,2},? \d{4}$"),
)
NUMBER_RE = re.compile(r"^\(?[-+]?[$€£¥]?\s?\d[\d\s.,']*(\s?[$€£¥%])?\)?$")
BOOL_WORDS = frozenset(
    {"true", "false", "yes", "no", "y", "n", "oui", "non", "ja", "nein", "si", "x", "t", "f"}
)
# A code: no spaces, at least one digit, letters/digits joined by - _ . / (ABC-DE-10001798).
CODE_RE = re.compile(r"^(?=.*\d)[0-9A-Za-z]+(?:[-_./][0-9A-Za-z]+)*$")

KIND_EMAIL, KIND_DATE, KIND_NUMBER, KIND_BOOL, KIND_TEXT = "email", "date", "number", "bool", "text"

# Value kinds that a field type cannot take; anything not listed is acceptable.
INCOMPATIBLE: dict[str, frozenset[str]] = {
    FieldType.TEXT: frozenset(),
    FieldType.EMAIL: frozenset({KIND_DATE, KIND_NUMBER, KIND_BOOL}),
    FieldType.INTEGER: frozenset({KIND_DATE, KIND_EMAIL, KIND_BOOL}),
    FieldType.DECIMAL: frozenset({KIND_DATE, KIND_EMAIL, KIND_BOOL}),
    FieldType.MONEY: frozenset({KIND_DATE, KIND_EMAIL, KIND_BOOL}),
    FieldType.DATE: frozenset({KIND_EMAIL, KIND_NUMBER, KIND_BOOL}),
    FieldType.DATETIME: frozenset({KIND_EMAIL, KIND_NUMBER, KIND_BOOL}),
    FieldType.BOOLEAN: frozenset({KIND_DATE, KIND_EMAIL}),
    FieldType.CHOICE: frozenset({KIND_DATE, KIND_EMAIL}),
    FieldType.REFERENCE: frozenset({KIND_DATE, KIND_EMAIL, KIND_BOOL}),
}
PREFERRED: dict[str, frozenset[str]] = {
    KIND_EMAIL: frozenset({FieldType.EMAIL}),
    KIND_DATE: frozenset({FieldType.DATE, FieldType.DATETIME}),
    KIND_NUMBER: frozenset({FieldType.INTEGER, FieldType.DECIMAL, FieldType.MONEY}),
    KIND_BOOL: frozenset({FieldType.BOOLEAN}),
}
# What a field type takes, in words ("only 0 % of sampled values are yes/no values").
TYPE_WORDS = {
    FieldType.EMAIL: "e-mail addresses",
    FieldType.INTEGER: "whole numbers",
    FieldType.DECIMAL: "numbers",
    FieldType.MONEY: "amounts",
    FieldType.DATE: "dates",
    FieldType.DATETIME: "dates",
    FieldType.BOOLEAN: "yes/no values",
    FieldType.JSON: "JSON objects",
}


def value_kind(value: Any) -> str | None:
    """What a single sample value looks like; None for a blank."""
    if value is None:
        return None
    if isinstance(value, bool):
        return KIND_BOOL
    if isinstance(value, dt.date | dt.datetime):
        return KIND_DATE
    if isinstance(value, int | float | Decimal):
        return KIND_NUMBER
    text = str(value).strip()
    if not text:
        return None
    if EMAIL_RE.match(text):
        return KIND_EMAIL
    if any(r.match(text) for r in DATE_RES):
        return KIND_DATE
    if text.casefold() in BOOL_WORDS:
        return KIND_BOOL
    if NUMBER_RE.match(text) and any(ch.isdigit() for ch in text):
        return KIND_NUMBER
    return KIND_TEXT


def column_kind(values: Iterable[Any]) -> str | None:
    """The kind most of a column's non-blank values share, else "text"; None if all blank."""
    counts: dict[str, int] = {}
    total = 0
    for value in values:
        kind = value_kind(value)
        if kind is None:
            continue
        total += 1
        counts[kind] = counts.get(kind, 0) + 1
    if not total:
        return None
    kind, count = max(counts.items(), key=lambda item: item[1])
    return kind if count / total >= KIND_SHARE else KIND_TEXT


def kind_compatible(kind: str | None, field: Field) -> bool:
    return kind is None or kind not in INCOMPATIBLE.get(field.type, frozenset())


def _excel_dates(values: Iterable[Any], field: Field) -> bool:
    """Dates that lost their cell format (29358): numbers, but the right column for a date
    field — the preview offers to read them as Excel dates."""
    return field.type in (FieldType.DATE, FieldType.DATETIME) and excel_serials_plausible(values)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | Decimal):
        return True
    return bool(re.fullmatch(r"\s*[-+]?\d+([.,]\d+)?\s*", str(value)))


def _id_like(values: Sequence[Any]) -> bool:
    """Unique codes: every sampled value a code (ABC-DE-10001798, 10023) and no repeats."""
    texts = [str(v).strip() for v in values]
    return (
        len(texts) >= 2 and len(set(texts)) == len(texts) and all(CODE_RE.match(t) for t in texts)
    )


def _pct(share: float) -> str:
    return f"{round(share * 100)} %"


# --- targets -------------------------------------------------------------------------------


def mapping_targets(resource) -> dict[str, Field]:
    """Fields a column can map to: the resource's, and for a file that may carry its lines
    (``line_resource``) the lines' fields too — except the line's reference to its parent,
    which the combined file gives by the rows' order columns."""
    if isinstance(resource, str):
        resource = resource_get(resource)
    fields = {f.name: f for f in resource.importable_fields()}
    lines = _line_resource(resource)
    if lines is not None:
        for f in lines.importable_fields():
            if f.name not in fields and not _is_parent_ref(f, resource):
                fields[f.name] = f
    return fields


def _line_resource(resource):
    name = getattr(resource, "line_resource", None)
    return resource_get(name) if name else None


def _is_parent_ref(field: Field, parent) -> bool:
    return field.ref is not None and field.ref.resource == parent.name


# --- value fit -----------------------------------------------------------------------------


@dataclass
class Fit:
    share: float | None  # None: no non-blank value to judge
    words: str  # "100 % of sampled values fit"


class _Fitter:
    """How well each field takes a column's sampled values; references resolve against the
    organization's records, one lookup per referenced resource for all columns together."""

    def __init__(self, *, organization, columns: list[list[Any]]):
        self.organization = organization
        self.columns = [[v for v in values if not _blank(v)] for values in columns]
        self.known: dict[str, set[str]] = {}  # referenced resource → keys found
        self.empty: dict[str, bool] = {}  # referenced resource → has no records at all
        self.cache: dict[tuple[int, str], Fit] = {}

    def prefetch(self, wanted: Iterable[tuple[int, Field]]) -> None:
        """Resolve every candidate reference at once: one lookup per referenced resource."""
        if self.organization is None:
            return
        from wizard.engine.matching import references_lookup

        by_resource: dict[tuple[str, str], set[str]] = {}
        for index, field in wanted:
            if field.ref is None:
                continue
            values = {str(v).strip() for v in self.columns[index]}
            by_resource.setdefault((field.ref.resource, field.ref.key), set()).update(values)
        for (name, key), values in by_resource.items():
            target = resource_get(name)
            attr = target.get_field(key).model_attr if key in target.field_map() else key
            found, ambiguous = references_lookup(
                organization=self.organization, resource=target, key=attr, values=values
            )
            self.known[name] = set(found) | set(ambiguous)
            if not self.known[name]:
                self.empty[name] = not target.queryset(self.organization).exists()

    def fit(self, index: int, field: Field) -> Fit:
        cached = self.cache.get((index, field.name))
        if cached is None:
            cached = self.cache[(index, field.name)] = self._fit(self.columns[index], field)
        return cached

    def _fit(self, values: list[Any], field: Field) -> Fit:
        if not values:
            return Fit(None, "the sampled values are all blank")
        total = len(values)
        if field.type == FieldType.REFERENCE and field.ref is not None:
            return self._reference_fit(values, field)
        if field.type == FieldType.TEXT:
            limit = field.max_length
            ok = sum(1 for v in values if not limit or len(str(v).strip()) <= limit)
            if ok == total:
                return Fit(1.0, "100 % of sampled values fit")
            return Fit(ok / total, f"{_pct(ok / total)} of sampled values are short enough")
        if _excel_dates(values, field):
            return Fit(1.0, "100 % of sampled values are Excel date numbers")
        parse = _parser(field, values)
        # A value shaped like the field's type fits even when invalid ("2024-99-01" for a
        # date): the column is the right one, and the preview reports the bad cell.
        shaped = {kind for kind, types in PREFERRED.items() if field.type in types}
        ok = 0
        for value in values:
            if value_kind(value) in shaped:
                ok += 1
                continue
            try:
                parse(value if not isinstance(value, str) else value.strip())
            except (ParseError, ValueError, TypeError, ArithmeticError):
                continue
            ok += 1
        share = ok / total
        if field.type == FieldType.CHOICE:
            labels = ", ".join(label for _, label in field.choices[:4])
            more = ", …" if len(field.choices) > 4 else ""
            what = f"one of {field.label}'s choices ({labels}{more})"
        else:
            what = TYPE_WORDS.get(field.type, "fit")
        if share == 1.0 or what == "fit":
            return Fit(share, f"{_pct(share)} of sampled values fit")
        return Fit(share, f"{_pct(share)} of sampled values are {what}")

    def _reference_fit(self, values: list[Any], field: Field) -> Fit:
        ref = field.ref
        target = resource_get(ref.resource)
        things = str(target.label).lower()
        texts = [str(v).strip() for v in values]
        if ref.key == "name":
            # Records found by name never have a bare number for a name: such a column holds
            # another system's IDs ("categoryID" 17), which would fail every row.
            numeric = sum(1 for v in values if _is_number(v))
            if numeric / len(values) >= FIT_SHARE:
                return Fit(
                    1 - numeric / len(values),
                    f"{_pct(numeric / len(values))} of sampled values are numbers, and "
                    f"{things} are found by name — they look like another system's IDs",
                )
        if self.organization is None or ref.resource not in self.known:
            kind_ok = sum(1 for v in values if value_kind(v) not in (KIND_DATE, KIND_EMAIL))
            return Fit(
                kind_ok / len(values), f"{_pct(kind_ok / len(values))} of sampled values fit"
            )
        if self.empty.get(ref.resource):
            # Nothing to resolve against yet: the preview will say which ones are missing.
            return Fit(1.0, f"there are no {things} yet to check the values against")
        known = {k.casefold() for k in self.known[ref.resource]}
        found = sum(1 for t in texts if t.casefold() in known)
        share = found / len(texts)
        if share >= FIT_SHARE or not ref.creatable:
            return Fit(share, f"{_pct(share)} of sampled values are existing {things}")
        # Names of records that can be created in the preview fit as well as existing ones.
        return Fit(
            1.0,
            f"{_pct(share)} of sampled values are existing {things}; the preview can create the rest",
        )


def _fits(fit: Fit, count: int) -> bool:
    """A large majority fit; in a handful of samples one bad cell is noise, not a misfit."""
    if fit.share is None:
        return True
    return fit.share >= FIT_SHARE or (fit.share >= 0.5 and round(count * (1 - fit.share)) <= 1)


def _parser(field: Field, values: list[Any]) -> Callable[[Any], Any]:
    """The engine's own parser of the field (one rule for what a value must look like)."""
    guessed = None
    if field.type in (FieldType.DATE, FieldType.DATETIME):
        guessed, _ = date_format_guess(values)
    return parser_for(field, guessed_date_format=guessed)


# --- suggestions ---------------------------------------------------------------------------


@dataclass
class _Candidate:
    index: int
    field: str
    reason: str
    score: float  # header score 0–1
    rank: float  # ordering within a tier
    header_words: str  # "header matches synonym 'Product ID'"
    fit: Fit | None


def _template_field(template, header: str) -> tuple[bool, str | None]:
    """(template names this header, field or None when the template ignores it)."""
    mapping = getattr(template, "mapping", None) or {}
    if header in mapping:
        return True, mapping[header] or None
    key = header_key(header)
    for saved_header, field in mapping.items():
        if header_key(saved_header) == key:
            return True, field or None
    return False, None


def _columns(headers: Sequence[str], sample_rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    columns: list[list[Any]] = [[] for _ in headers]
    for row in sample_rows or ():
        for index in range(min(len(headers), len(row))):
            columns[index].append(row[index])
    return columns


def _header_candidates(
    fields: Mapping[str, Field], index: int, header: str
) -> list[tuple[str, str, float, str]]:
    """(field, reason, header score, words) for every field the header points at."""
    key, words = header_key(header), _words(header)
    found: dict[str, tuple[str, str, float, str]] = {}
    for f in fields.values():
        if key and key in (header_key(f.name), header_key(f.label)):
            found[f.name] = (f.name, EXACT, 1.0, "header is the field's name")
            continue
        synonym = next((s for s in f.synonyms if key and header_key(s) == key), None)
        if synonym is not None:
            found[f.name] = (f.name, SYNONYM, 0.95, f"header matches synonym '{synonym}'")
            continue
        if len(key) < FUZZY_MIN_LENGTH:
            continue
        best, best_text = 0.0, ""
        for text in (f.name, f.label, *f.synonyms):
            other = header_key(text)
            # "Email" is 83 % like "No Email" by edit distance, yet means the opposite.
            if min(len(key), len(other)) < LENGTH_SHARE * max(len(key), len(other)):
                continue
            ratio = max(fuzz.ratio(key, other), fuzz.token_sort_ratio(words, _words(text)))
            if ratio > best:
                best, best_text = ratio, (f.label if text == f.name else text)
        if best >= FUZZY_THRESHOLD:
            found[f.name] = (
                f.name,
                SIMILAR,
                min(best / 100, 0.94),
                f"header resembles '{best_text}' ({round(best)} % alike)",
            )
    return list(found.values())


def _learned_words(choice, header: str, field: Field | None, user) -> str:
    who = "you" if user is not None and choice.user_id == getattr(user, "pk", None) else None
    if who is None:
        who = (
            (choice.user.get_full_name() or choice.user.get_username())
            if choice.user
            else "someone"
        )
    day = choice.last_used_at
    when = f"{day.day} {day:%b}" + (f" {day.year}" if day.year != dt.date.today().year else "")
    if field is None:
        return f"{who} chose not to import '{header}' on {when}"
    return f"{who} mapped '{header}' to {field.label} on {when}"


def mapping_suggest(
    *,
    resource,
    headers: list[str],
    sample_rows: Sequence[Sequence[Any]] = (),
    template=None,
    organization=None,
    user=None,
    learn: bool = True,
) -> list[Suggestion]:
    """One suggestion per header, in header order; each field is suggested at most once.

    With ``organization``, references are checked against its records and (unless ``learn``
    is false) the organization's earlier corrections are suggested first after a template.
    """
    if isinstance(resource, str):
        resource = resource_get(resource)
    fields = mapping_targets(resource)
    own = {f.name for f in resource.importable_fields()}
    key_fields = {f.name for f in resource.key_fields() if f.type == FieldType.TEXT}
    columns = _columns(headers, sample_rows)
    kinds = [column_kind(values) for values in columns]
    fitter = _Fitter(organization=organization, columns=columns)
    result: list[Suggestion | None] = [None] * len(headers)
    used: dict[str, int] = {}

    def assign(index: int, field: str | None, reason: str, score: float, why: str) -> None:
        result[index] = Suggestion(headers[index], field, reason, round(score, 3), why)
        if field:
            used[field] = index

    # 1. The saved template: the organization's own earlier decision beats any guess.
    if template is not None:
        name = getattr(template, "name", "") or ""
        source = f"the template '{name}'" if name else "the template"
        for index, header in enumerate(headers):
            named, field = _template_field(template, header)
            if not named:
                continue
            if field is None:
                assign(index, None, TEMPLATE, 1.0, f"{source} leaves this column out")
            elif field in fields and field not in used:
                assign(index, field, TEMPLATE, 1.0, f"{source} maps it to {fields[field].label}")

    # 2. What someone in the organization chose for this header before (learned corrections).
    if organization is not None and learn:
        from wizard.learning import learned_choices

        choices = learned_choices(organization=organization, resource=resource.name)
        for index, header in enumerate(headers):
            choice = choices.get(header_key(header))
            if result[index] is not None or choice is None:
                continue
            if not choice.field:
                assign(index, None, LEARNED, 1.0, _learned_words(choice, header, None, user))
            elif choice.field in fields and choice.field not in used:
                words = _learned_words(choice, header, fields[choice.field], user)
                assign(index, choice.field, LEARNED, 1.0, words)

    # 3. Header candidates for the rest, checked against the values.
    proposals: list[tuple[int, tuple[str, str, float, str]]] = []
    for index, header in enumerate(headers):
        if result[index] is None:
            proposals += [(index, c) for c in _header_candidates(fields, index, header)]
    fitter.prefetch((index, fields[c[0]]) for index, c in proposals)
    candidates: list[_Candidate] = []
    refused: dict[int, list[str]] = {}
    for index, (name, reason, score, words) in proposals:
        f = fields[name]
        fit = fitter.fit(index, f)
        # An exact name is the user's explicit choice (validation reports bad values); a
        # synonym or a resemblance is only a guess, and the values must agree with it.
        if reason != EXACT and (
            not _fits(fit, len(fitter.columns[index]))
            or not (kind_compatible(kinds[index], f) or _excel_dates(fitter.columns[index], f))
        ):
            named = words if f"'{f.label}'" in words else f"{words} ({f.label})"
            refused.setdefault(index, []).append(f"{named}, but {fit.words}")
            continue
        rank = score * 100
        if reason == SIMILAR and f.type in PREFERRED.get(kinds[index] or "", ()):
            rank += KIND_BONUS
        if name in key_fields and _id_like(fitter.columns[index]):
            rank += 5  # a column of unique codes is the record's key before anything else
        if name in own:
            rank += 0.5  # the resource's own field before a line field of the same standing
        candidates.append(_Candidate(index, name, reason, score, rank, words, fit))

    # 4. A column of unique codes with an identifier's header is the key when nothing else is
    # (a "categoryID" refused as the category is another record's ID, not this one's key).
    for index, header in enumerate(headers):
        if result[index] is not None or index in refused:
            continue
        if any(c.index == index for c in candidates):
            continue
        header_words = set(_words(header).split())
        if header_words & ID_WORDS and _id_like(fitter.columns[index]):
            for name in key_fields:
                fit = fitter.fit(index, fields[name])
                words = "the values are unique codes and " + fields[name].label + " is the key"
                candidates.append(_Candidate(index, name, VALUES, 0.6, 60, words, fit))
    # 5. A column of e-mail addresses with an unhelpful header still belongs in an e-mail field.
    for index in range(len(headers)):
        if result[index] is not None or kinds[index] != KIND_EMAIL:
            continue
        for f in fields.values():
            if f.type == FieldType.EMAIL:
                fit = fitter.fit(index, f)
                words = "no header match, but the values are e-mail addresses"
                candidates.append(_Candidate(index, f.name, VALUES, 0.6, 59, words, fit))

    candidates.sort(key=lambda c: (-TIER[c.reason], -c.rank, c.index))
    lost: dict[int, str] = {}
    for c in candidates:
        if result[c.index] is not None:
            continue
        if c.field in used:
            other = headers[used[c.field]]
            lost.setdefault(c.index, f"{fields[c.field].label} is taken by column '{other}'")
            continue
        why = c.header_words if c.fit is None else f"{c.header_words}; {c.fit.words}"
        assign(c.index, c.field, SIMILAR if c.reason == VALUES else c.reason, c.score, why)

    suggestions = []
    for index, s in enumerate(result):
        if s is None:
            s = Suggestion(
                headers[index], None, "", 0.0, _unmapped_why(index, headers, refused, lost, fitter)
            )
        suggestions.append(s)
    return suggestions


def _unmapped_why(index, headers, refused, lost, fitter) -> str:
    if index in lost:
        return f"Left unmapped: {lost[index]}."
    if index in refused:
        return "Left unmapped: " + "; ".join(refused[index][:2]) + "."
    if not fitter.columns[index]:
        return "Left unmapped: the sampled values are all blank and no field's name resembles it."
    return f"Left unmapped: no field's name or synonyms resemble '{headers[index]}'."


def mapping_from_suggestions(suggestions: Iterable[Suggestion]) -> dict[str, str]:
    return {s.header: s.field for s in suggestions if s.field}


# --- required fields -----------------------------------------------------------------------


def _option_satisfies(option: Any) -> bool:
    if not isinstance(option, dict):
        return False
    for name in ("constant", "default"):
        value = option.get(name)
        if value is not None and str(value).strip() != "":
            return True
    return bool(option.get("join"))


def mapping_missing_required(
    *, resource, mapping: dict[str, str], options: dict[str, dict] | None = None
) -> list[Field]:
    """Required fields that no column, constant, default or joined columns will fill.

    The one rule behind the mapping page's status box and the check on Continue / import
    start. A file that carries lines (``line_resource``) must also fill the lines' required
    fields once it maps any line field — all but the lines' key, which the combined file gives
    (the order from the order's columns, line numbers in file order).
    """
    if isinstance(resource, str):
        resource = resource_get(resource)
    mapped = {field for field in (mapping or {}).values() if field}
    options = options or {}

    def missing(fields: Iterable[Field]) -> list[Field]:
        return [
            f
            for f in fields
            if f.required
            and f.name not in mapped
            and f.default is None
            and not _option_satisfies(options.get(f.name))
        ]

    filled = mapped | {name for name, opts in options.items() if _option_satisfies(opts)}
    result = [
        f
        for f in missing(resource.importable_fields())
        if not resource.fills_itself(f.name, filled)
    ]
    lines = _line_resource(resource)
    if lines is not None:
        own = {f.name for f in resource.importable_fields()}
        line_only = [f for f in mapping_targets(resource).values() if f.name not in own]
        if any(f.name in mapped or _option_satisfies(options.get(f.name)) for f in line_only):
            keys = set(lines.key)
            result += [f for f in missing(line_only) if f.name not in keys]
    return result


# --- templates -----------------------------------------------------------------------------


def template_coverage(template, headers: Sequence[str]) -> float:
    """Share of the (non-blank) headers that the template's mapping names."""
    keys = {header_key(h) for h in (template.mapping or {})}
    wanted = [header_key(h) for h in headers if header_key(h)]
    if not wanted or not keys:
        return 0.0
    return sum(1 for h in wanted if h in keys) / len(wanted)


def template_match(*, organization, user, resource: str | None, headers: list[str]):
    """The active import template that best covers the headers (≥ 60 %), or None."""
    qs = templates_offered(
        organization=organization,
        user=user,
        template_type="import",
        resources=[resource] if resource else None,
    )
    best, best_rank = None, None
    for template in qs:
        if template_problem(template):
            continue  # a template that needs attention is never proposed
        share = template_coverage(template, headers)
        if share < TEMPLATE_MATCH_SHARE:
            continue
        saved = len(template.mapping or {}) or 1
        found = {header_key(h) for h in headers}
        # How much of the template the file still has breaks ties, then the most recently used.
        precision = sum(1 for h in (template.mapping or {}) if header_key(h) in found) / saved
        used = template.last_used_at.timestamp() if template.last_used_at else 0.0
        rank = (share, precision, used, -template.pk)
        if best_rank is None or rank > best_rank:
            best, best_rank = template, rank
    return best
