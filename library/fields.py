"""Per-field settings of an import template, as the edit form shows them.

A template stores ``options`` and ``rules`` as JSON per field (library/schema.py). People edit
them field by field: default, constant, value map rows, date format, and the rules required,
unique, pattern, minimum, maximum and allowed values. ``FieldSettings`` is one field's card:
built from a stored template or from the posted form, turned back into the two JSON parts,
and able to try its rules on sample values typed by the person (the live check).

Options the form does not show (joined columns, number separators) are kept as they were.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from business.resources import Field, FieldType
from library.rules import allowed_problem, pattern_problem

DATE_FORMATS = [
    ("", "Detect from the data"),
    ("%d/%m/%Y", "31/12/2024 (day first)"),
    ("%m/%d/%Y", "12/31/2024 (month first)"),
    ("%Y-%m-%d", "2024-12-31 (ISO)"),
    ("%d.%m.%Y", "31.12.2024"),
    ("%d-%m-%Y", "31-12-2024"),
    ("%d %b %Y", "31 Dec 2024"),
]
DATES = (FieldType.DATE, FieldType.DATETIME)
# The option and rule keys the card edits; any other stored key is carried over untouched.
CARD_OPTIONS = ("default", "constant", "date_format", "value_map")
CARD_RULES = ("required", "unique", "regex", "min", "max", "allowed")
MAX_SAMPLES = 20


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _bound(text: str) -> int | float | str:
    """A typed minimum/maximum: a number when it reads as one, else text (a date)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


@dataclass
class SampleResult:
    raw: str
    value: str
    ok: bool
    message: str = ""


@dataclass
class FieldSettings:
    name: str
    label: str
    is_date: bool = False
    exists: bool = True
    default: str = ""
    constant: str = ""
    date_format: str = ""
    value_map: list[tuple[str, str]] = field(default_factory=list)
    required: bool = False
    unique: bool = False
    regex: str = ""
    minimum: str = ""
    maximum: str = ""
    allowed: str = ""
    samples: str = ""
    kept_options: dict[str, Any] = field(default_factory=dict)
    kept_rules: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    # --- from a stored template, or from the form -----------------------------------------

    @classmethod
    def stored(cls, *, name: str, label: str, is_date: bool, exists: bool, options, rules):
        opts = options if isinstance(options, dict) else {}
        rule = rules if isinstance(rules, dict) else {}
        value_map = opts.get("value_map")
        allowed = rule.get("allowed")
        return cls(
            name=name,
            label=label,
            is_date=is_date,
            exists=exists,
            default=_text(opts.get("default")),
            constant=_text(opts.get("constant")),
            date_format=_text(opts.get("date_format")),
            value_map=[(str(k), _text(v)) for k, v in value_map.items()]
            if isinstance(value_map, dict)
            else [],
            required=rule.get("required") is True,
            unique=rule.get("unique") is True,
            regex=_text(rule.get("regex")),
            minimum=_text(rule.get("min")),
            maximum=_text(rule.get("max")),
            allowed="\n".join(map(_text, allowed)) if isinstance(allowed, list) else "",
            kept_options={k: v for k, v in opts.items() if k not in CARD_OPTIONS},
            kept_rules={k: v for k, v in rule.items() if k not in CARD_RULES},
        )

    @classmethod
    def posted(cls, data, *, base: FieldSettings) -> FieldSettings:
        """The card as posted (``f-<field>-<part>`` names), over what was stored."""
        prefix = f"f-{base.name}-"

        def get(part: str) -> str:
            return (data.get(prefix + part) or "").strip()

        pairs = zip(data.getlist(prefix + "vm-from"), data.getlist(prefix + "vm-to"), strict=False)
        return cls(
            name=base.name,
            label=base.label,
            is_date=base.is_date,
            exists=base.exists,
            default=get("default"),
            constant=get("constant"),
            date_format=get("date_format"),
            value_map=[(a.strip(), b.strip()) for a, b in pairs if a.strip()],
            required=bool(data.get(prefix + "required")),
            unique=bool(data.get(prefix + "unique")),
            regex=get("regex"),
            minimum=get("min"),
            maximum=get("max"),
            allowed=get("allowed"),
            samples=data.get(prefix + "samples") or "",
            kept_options=base.kept_options,
            kept_rules=base.kept_rules,
        )

    # --- back to the template's JSON ------------------------------------------------------

    def options(self) -> dict[str, Any]:
        out = dict(self.kept_options)
        for key, value in (
            ("default", self.default),
            ("constant", self.constant),
            ("date_format", self.date_format),
        ):
            if value:
                out[key] = value
        if self.value_map:
            out["value_map"] = dict(self.value_map)
        return out

    def rules(self) -> dict[str, Any]:
        out = dict(self.kept_rules)
        if self.required:
            out["required"] = True
        if self.unique:
            out["unique"] = True
        if self.regex:
            out["regex"] = self.regex
        if self.minimum:
            out["min"] = _bound(self.minimum)
        if self.maximum:
            out["max"] = _bound(self.maximum)
        allowed = [line.strip() for line in self.allowed.splitlines() if line.strip()]
        if allowed:
            out["allowed"] = allowed
        return out

    @property
    def date_format_known(self) -> bool:
        return self.date_format in {value for value, _ in DATE_FORMATS}

    @property
    def is_set(self) -> bool:
        return bool(self.options() or self.rules())

    def summary(self) -> list[str]:
        """Short words for the collapsed card: what this field does differently."""
        words = []
        if self.constant:
            words.append(f"always “{self.constant}”")
        if self.default:
            words.append(f"default “{self.default}”")
        if self.value_map:
            words.append(
                f"{len(self.value_map)} mapped value{'s' if len(self.value_map) > 1 else ''}"
            )
        if self.date_format:
            words.append(f"dates {self.date_format}")
        if self.required:
            words.append("required")
        if self.unique:
            words.append("unique")
        if self.regex:
            words.append("pattern")
        if self.minimum or self.maximum:
            words.append("range")
        if self.allowed.strip():
            words.append("allowed values")
        return words

    # --- the live check -------------------------------------------------------------------

    def sample_values(self) -> list[str]:
        return [line.rstrip("\r") for line in self.samples.split("\n")][:MAX_SAMPLES]

    def check(self) -> list[SampleResult]:
        """What each sample value becomes and whether it passes the field's rules.

        The order is the import engine's: a constant replaces the cell, the value map
        translates it, a blank takes the default, then required, pattern and allowed
        values are checked, with the engine's messages. Minimum and maximum depend on the
        typed value and are checked by the import preview.
        """
        try:
            pattern = re.compile(self.regex) if self.regex else None
        except re.error as exc:
            return [SampleResult(raw="", value="", ok=False, message=f"Invalid pattern: {exc}")]
        exact = dict(self.value_map)
        folded = {k.strip().casefold(): v for k, v in self.value_map}
        allowed = [a.strip() for a in self.allowed.splitlines() if a.strip()]
        results = []
        samples = self.sample_values()
        while samples and not samples[-1].strip():
            samples.pop()
        for raw in samples:
            text = raw.strip()
            if self.constant:
                value = self.constant
            else:
                value = exact.get(text, folded.get(text.casefold(), text))
                if value == "" and self.default:
                    value = self.default
            if value == "":
                if self.required:
                    results.append(SampleResult(raw, value, False, "Required, and blank"))
                else:
                    results.append(SampleResult(raw, value, True, "Left blank"))
                continue
            # The engine's own rules and words (library/rules.py), on the value it checks: the
            # text after the constant, value map and default.
            problem = pattern_problem(pattern=pattern, raw=value) or allowed_problem(
                allowed=allowed, raw=value, value=value
            )
            results.append(SampleResult(raw, value, not problem, problem))
        return results


def field_cards(*, resource_fields: tuple[Field, ...], options, rules) -> list[FieldSettings]:
    """One card per importable field, then one per stored field the resource no longer has."""
    options = options if isinstance(options, dict) else {}
    rules = rules if isinstance(rules, dict) else {}
    cards = [
        FieldSettings.stored(
            name=f.name,
            label=f.label,
            is_date=f.type in DATES,
            exists=True,
            options=options.get(f.name),
            rules=rules.get(f.name),
        )
        for f in resource_fields
    ]
    known = {f.name for f in resource_fields}
    for name in sorted({*options, *rules} - known, key=str):
        cards.append(
            FieldSettings.stored(
                name=str(name),
                label=str(name),
                is_date=False,
                exists=False,
                options=options.get(name),
                rules=rules.get(name),
            )
        )
    return cards
