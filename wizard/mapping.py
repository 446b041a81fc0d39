"""Auto-mapping of file columns to resource fields, and matching files to saved templates.

Suggestions come in a fixed order of trust: a saved template, then exact key/label matches,
then declared synonyms, then fuzzy similarity. Header comparison ignores case, accents, spaces
and punctuation ("E-mail Address" == "email address" == "EmailAddress"). Synonym and fuzzy
matches are type-aware: the sample values of a column veto a field of an incompatible type
(a column of dates never lands on a quantity), and a column whose values are e-mail addresses
leans towards an e-mail field.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rapidfuzz import fuzz

from business.resources import Field, FieldType, resource_get
from library.schema import template_problem
from library.selectors import templates_offered

TEMPLATE = "template"
EXACT = "exact"
SYNONYM = "synonym"
SIMILAR = "similar"
REASONS = (TEMPLATE, EXACT, SYNONYM, SIMILAR)

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
# A template is proposed when its mapping names at least this share of the file's headers.
TEMPLATE_MATCH_SHARE = 0.6


@dataclass
class Suggestion:
    header: str
    field: str | None
    reason: str  # "template" | "exact" | "synonym" | "similar" | ""
    score: float


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


def _column_kinds(headers: Sequence[str], sample_rows: Iterable[Sequence[Any]]) -> list[str | None]:
    columns: list[list[Any]] = [[] for _ in headers]
    for row in sample_rows or ():
        for index in range(min(len(headers), len(row))):
            columns[index].append(row[index])
    return [column_kind(values) for values in columns]


# --- suggestions ---------------------------------------------------------------------------


def _importable(resource) -> dict[str, Field]:
    return {f.name: f for f in resource.importable_fields()}


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


def mapping_suggest(
    *, resource, headers: list[str], sample_rows: Sequence[Sequence[Any]] = (), template=None
) -> list[Suggestion]:
    """One suggestion per header, in header order; each field is suggested at most once."""
    if isinstance(resource, str):
        resource = resource_get(resource)
    fields = _importable(resource)
    kinds = _column_kinds(headers, sample_rows)
    result: list[Suggestion | None] = [None] * len(headers)
    used: set[str] = set()

    def assign(index: int, field: str | None, reason: str, score: float) -> None:
        result[index] = Suggestion(headers[index], field, reason, round(score, 3))
        if field:
            used.add(field)

    # 1. The saved template: the user's own earlier decision beats any guess.
    if template is not None:
        for index, header in enumerate(headers):
            named, field = _template_field(template, header)
            if not named:
                continue
            if field is None:
                assign(index, None, TEMPLATE, 1.0)
            elif field in fields and field not in used:
                assign(index, field, TEMPLATE, 1.0)

    # 2. Exact key or label; 3. declared synonyms. Header order breaks ties.
    exact: dict[str, str] = {}
    synonyms: dict[str, str] = {}
    for f in fields.values():
        for text in (f.name, f.label):
            exact.setdefault(header_key(text), f.name)
    for f in fields.values():
        for text in f.synonyms:
            key = header_key(text)
            if key not in exact:
                synonyms.setdefault(key, f.name)
    for table, reason, score, typed in (
        (exact, EXACT, 1.0, False),
        (synonyms, SYNONYM, 0.95, True),
    ):
        for index, header in enumerate(headers):
            if result[index] is not None:
                continue
            name = table.get(header_key(header))
            if name is None or name in used:
                continue
            # An exact name is the user's explicit choice; a synonym is only a guess.
            if typed and not kind_compatible(kinds[index], fields[name]):
                continue
            assign(index, name, reason, score)

    # 4. Fuzzy similarity against key, label and synonyms, best pairs first.
    candidates: list[tuple[float, float, int, str]] = []
    for index, header in enumerate(headers):
        if result[index] is not None or len(header_key(header)) < FUZZY_MIN_LENGTH:
            continue
        key, words = header_key(header), _words(header)
        for f in fields.values():
            if f.name in used or not kind_compatible(kinds[index], f):
                continue
            best = 0.0
            for text in (f.name, f.label, *f.synonyms):
                other = header_key(text)
                # "Email" is 83 % like "No Email" by edit distance, yet means the opposite.
                if min(len(key), len(other)) < LENGTH_SHARE * max(len(key), len(other)):
                    continue
                best = max(
                    best,
                    fuzz.ratio(key, other),
                    fuzz.token_sort_ratio(words, _words(text)),
                )
            if best < FUZZY_THRESHOLD:
                continue
            bonus = KIND_BONUS if f.type in PREFERRED.get(kinds[index] or "", ()) else 0.0
            candidates.append((best + bonus, best, index, f.name))
    for _, best, index, name in sorted(candidates, key=lambda c: (-c[0], c[2])):
        if result[index] is None and name not in used:
            assign(index, name, SIMILAR, best / 100)

    # 5. A column of e-mail addresses with an unhelpful header still belongs in the e-mail field.
    email_fields = [f.name for f in fields.values() if f.type == FieldType.EMAIL]
    for index in range(len(headers)):
        if result[index] is None and kinds[index] == KIND_EMAIL:
            free = [name for name in email_fields if name not in used]
            if free:
                assign(index, free[0], SIMILAR, 0.6)

    return [s or Suggestion(headers[i], None, "", 0.0) for i, s in enumerate(result)]


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
    """Required fields that no column, constant, default or joined columns will fill."""
    if isinstance(resource, str):
        resource = resource_get(resource)
    mapped = {field for field in (mapping or {}).values() if field}
    options = options or {}
    return [
        f
        for f in resource.importable_fields()
        if f.required
        and f.name not in mapped
        and f.default is None
        and not _option_satisfies(options.get(f.name))
    ]


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
