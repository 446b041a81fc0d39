"""A template's rules on one field's value (pattern, allowed values, minimum, maximum), written once.

The import engine checks every cell with :func:`rule_problem` (wizard/engine/validation.py); the
template editor's live check tries the rules that need no typed value, the pattern and the
allowed values, on the samples a person types (library/fields.py). Both show the same message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any


def quote(raw: Any) -> str:
    """A cell's value as messages show it: quoted, and cut when long."""
    text = str(raw)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"'{text}'"


def pattern_problem(*, pattern: re.Pattern | None, raw: Any) -> str:
    """The whole value must match the pattern (the text after the value map, before parsing)."""
    if pattern is not None and not pattern.fullmatch(str(raw)):
        return f"{quote(raw)} does not match the expected pattern {pattern.pattern}"
    return ""


def allowed_problem(*, allowed: Iterable[Any] | None, raw: Any, value: Any) -> str:
    """The value, typed or as written, must be one of the allowed values (case-insensitive)."""
    if not allowed:
        return ""
    allowed = list(allowed)
    folded = {str(a).casefold() for a in allowed}
    if str(value).casefold() in folded or str(raw).casefold() in folded:
        return ""
    return f"{quote(raw)} is not one of the allowed values: {', '.join(map(str, allowed))}"


def bounds_problem(*, rules: Mapping[str, Any], raw: Any, value: Any) -> str:
    """Minimum and maximum of the typed value: a text's length, a number, a date (as ISO text)."""
    for name, word, check in (
        ("min", "at least", lambda v, b: v >= b),
        ("max", "at most", lambda v, b: v <= b),
    ):
        bound = rules.get(name)
        if bound is None or bound == "":
            continue
        try:
            if isinstance(value, str):
                ok = check(len(value), int(bound))
                if not ok:
                    return f"{quote(raw)} must be {word} {bound} characters long"
                continue
            if isinstance(value, int | Decimal | float):
                ok = check(
                    value, Decimal(str(bound)) if isinstance(value, Decimal) else type(value)(bound)
                )
            else:
                ok = check(str(value), str(bound))  # dates compare as ISO text
        except (TypeError, ValueError, ArithmeticError):
            continue
        if not ok:
            return f"{quote(raw)} must be {word} {bound}"
    return ""


def rule_problem(
    *, pattern: re.Pattern | None, rules: Mapping[str, Any], raw: Any, value: Any
) -> str:
    """The first rule ``raw`` (as written) / ``value`` (typed) breaks, or "" when it passes."""
    return (
        pattern_problem(pattern=pattern, raw=raw)
        or allowed_problem(allowed=rules.get("allowed"), raw=raw, value=value)
        or bounds_problem(rules=rules, raw=raw, value=value)
    )
