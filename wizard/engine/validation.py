"""Map and parse: file cells → typed field values, with per-field options and rules.

Everything that can be decided once per column (which cell, which parser, which default,
which rules) is compiled into a ``FieldPlan`` before the first row; the per-row loop only
indexes, strips and calls.
"""

from __future__ import annotations

import enum
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from business.resources import Field, FieldType, Resource
from jobs.errors import FerryError
from library.rules import rule_problem
from wizard.parsing import (
    ParseError,
    date_format_guess,
    human_format,
    parser_for,
    parser_memo,
    text_as_is_limit,
    value_map_lookup,
)

T = FieldType


class MappingError(FerryError):
    pass


@dataclass
class FieldPlan:
    field: Field
    model_field: models.Field
    attname: str  # what the parsed value is stored under in a row's values
    column: str  # the name messages use for this field's cell
    index: int | None = None
    join: tuple[int, ...] = ()
    join_with: str = " "
    constant: Any = None
    default: Any = None
    value_map: Callable[[str], Any] | None = None
    parse: Callable[[Any], Any] = str
    blank: Any = None
    required: bool = False
    rules: dict = field(default_factory=dict)
    regex: re.Pattern | None = None
    is_ref: bool = False
    is_key: bool = False
    # Problems counted by kind while parsing ("decimal_places"), each with a first example,
    # and values rounded: a summary groups them (wizard.engine.problems).
    tally: Counter = field(default_factory=Counter)
    examples: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.field.name


_NONE: tuple = ()


class RowProblem(str):
    """A row's problem in words that also knows its kind ("required", "not_a_date", ...): the
    row log stores the kind, so the preview's problems panel groups by it, not by the text."""

    kind = ""

    def __new__(cls, text: str, kind: str) -> RowProblem:
        problem = super().__new__(cls, text)
        problem.kind = kind
        return problem


# The kind of a value the field's parser refused ("invalid"), by the field's type.
PARSE_KINDS = {
    FieldType.CHOICE: "not_a_choice",
    FieldType.BOOLEAN: "not_yes_no",
    FieldType.INTEGER: "not_a_number",
    FieldType.DECIMAL: "not_a_number",
    FieldType.MONEY: "not_a_number",
    FieldType.DATE: "not_a_date",
    FieldType.DATETIME: "not_a_date",
    FieldType.EMAIL: "invalid_email",
}


class Row:
    """One data row on its way through the pipeline.

    Most rows never have a problem: the error and warning lists (and the rest) are class
    defaults until first set, which keeps creating a row cheap.
    """

    errors: list[tuple[str, Any, str]] = _NONE  # type: ignore[assignment]
    warnings: list[tuple[str, Any, str]] = _NONE  # type: ignore[assignment]
    status = ""
    key: tuple | None = None
    keyset = None  # the key (natural or fallback) that recognised the row
    existing = None
    changes: dict[str, tuple[Any, Any]] | None = None
    obj = None
    extra: dict[str, Any] | None = None

    def __init__(self, number: int, raw: Sequence[Any]):
        self.number = number
        self.raw = raw
        self.values: dict[str, Any] = {}

    def error(self, column: str, value: Any, message: str, kind: str = "") -> None:
        if self.errors is _NONE:
            self.errors = []
        self.errors.append((column, value, RowProblem(message, kind) if kind else message))

    def warn(self, column: str, value: Any, message: str) -> None:
        if self.warnings is _NONE:
            self.warnings = []
        self.warnings.append((column, value, message))


def _blank_value(field: Field, model_field: models.Field) -> Any:
    value = _blank_default(field, model_field)
    # A TextChoices default is an enum member: stored the same, but marshal (identity.py packs
    # compared values with it) refuses it, and a blank cell would then cost a pickle a row.
    return value.value if isinstance(value, enum.Enum) else value


def _blank_default(field: Field, model_field: models.Field) -> Any:
    if field.default is not None:
        return field.default
    if model_field.null:
        return None
    if model_field.has_default():
        return model_field.get_default()
    if isinstance(model_field, models.CharField | models.TextField):
        return ""
    return None


def plans_compile(
    *,
    resource: type[Resource],
    headers: Sequence[str],
    mapping: dict[str, str],
    options: dict[str, dict],
    rules: dict[str, dict],
    date_formats: dict[str, str] | None = None,
    only: set[str] | None = None,
    rounding: str | None = None,
) -> list[FieldPlan]:
    """One plan per field that the mapping, a constant or joined columns will fill."""
    fields = {f.name: f for f in resource.importable_fields()}
    model = resource.model
    index_of: dict[str, int] = {}
    for i, header in enumerate(headers):
        index_of.setdefault(str(header), i)
    by_field: dict[str, int] = {}
    for header, name in mapping.items():
        if name not in fields:
            if only is None:
                raise MappingError(
                    f"Column '{header}' is mapped to '{name}', which is not a field of {resource.label.lower()}."
                )
            continue
        if header not in index_of:
            raise MappingError(f"The file has no column '{header}' (it is in the mapping).")
        if name in by_field:
            other = headers[by_field[name]]
            raise MappingError(
                f"Columns '{other}' and '{header}' are both mapped to '{fields[name].label}'; map only one."
            )
        by_field[name] = index_of[header]
    plans = PlanList()
    for name, f in fields.items():
        if only is not None and name not in only:
            continue
        opts = options.get(name) or {}
        field_rules = dict(rules.get(name) or {})
        index = by_field.get(name)
        join = tuple(index_of[h] for h in opts.get("join") or () if h in index_of)
        missing_join = [h for h in opts.get("join") or () if h not in index_of]
        if missing_join:
            raise MappingError(
                f"'{f.label}' joins column '{missing_join[0]}', which the file does not have."
            )
        constant = opts.get("constant")
        if constant is not None and str(constant).strip() == "":
            constant = None
        if index is None and not join and constant is None:
            continue
        model_field = model._meta.get_field(f.model_attr)
        attname = model_field.attname if f.ref is None else f.name
        if constant is not None:
            column = f.label
        elif index is not None:
            column = str(headers[index])
        else:
            column = str(headers[join[0]])
        regex = None
        if field_rules.get("regex"):
            try:
                regex = re.compile(str(field_rules["regex"]))
            except re.error as exc:
                raise MappingError(f"The pattern rule of '{f.label}' is not valid: {exc}") from None
        default = opts.get("default")
        if default is not None and str(default).strip() == "":
            default = None
        tally: Counter = Counter()
        plans.append(
            FieldPlan(
                field=f,
                model_field=model_field,
                attname=attname,
                column=column,
                index=index if constant is None else None,
                join=join if constant is None and index is None else (),
                join_with=str(opts.get("join_with", " ")),
                constant=constant,
                default=default,
                value_map=value_map_lookup(opts.get("value_map")),
                parse=parser_for(
                    f,
                    model_field,
                    opts,
                    guessed_date_format=(date_formats or {}).get(name),
                    rounding=rounding,
                    tally=tally,
                ),
                tally=tally,
                blank=_blank_value(f, model_field),
                # A blank key is no error where another key (or none) recognises the row, nor a
                # blank number where rows are numbered in file order.
                required=bool(
                    (f.required and not resource.blank_allowed(name)) or field_rules.get("required")
                ),
                rules={k: v for k, v in field_rules.items() if k in ("min", "max", "allowed")},
                regex=regex,
                is_ref=f.ref is not None,
                is_key=name in resource.key,
            )
        )
    return plans


def date_formats_guess(
    *, plans: Sequence[FieldPlan], rows: Sequence[Sequence[Any]], fixed: dict[str, str]
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Guess each date column's format from sample rows. Returns (formats, warnings)."""
    formats: dict[str, str] = {}
    warnings: list[tuple[str, str]] = []
    for plan in plans:
        if plan.field.type not in (T.DATE, T.DATETIME) or plan.index is None:
            continue
        if plan.name in fixed:
            formats[plan.name] = fixed[plan.name]
            continue
        values = [r[plan.index] for r in rows if plan.index < len(r)]
        guessed, other = date_format_guess(values)
        if guessed:
            formats[plan.name] = guessed
        if guessed and other:
            warnings.append(
                (
                    plan.column,
                    f"Dates in column '{plan.column}' could be {human_format(guessed)} or "
                    f"{human_format(other)}; they were read as {human_format(guessed)}. "
                    "Set the date format of this field if that is wrong.",
                )
            )
    return formats, warnings


class PlanList(list):
    """Plans, plus the row parsers compiled for them (``row_parse``, ``rows_parse``)."""

    def row_parser(self) -> Callable[[Row, Sequence[Any], dict[str, Any]], None]:
        cached = self.__dict__.get("_parsers")
        if cached is None or cached[0] != len(self):
            cached = self.__dict__["_parsers"] = (len(self), *_parsers_compile(self))
        return cached[1]

    def rows_parser(self) -> Callable[[Sequence[Row], int], None]:
        self.row_parser()
        return self.__dict__["_parsers"][2]


def _parsers_compile(plans: Sequence[FieldPlan]) -> tuple[Callable, Callable]:
    """Two functions that parse rows for these plans, written out plan by plan: one for a row
    (``row, raw, values``), one for a batch of rows (``rows, width``).

    Every cell of a file passes here, so what can be decided per column is decided once: the
    common cell (text, from a column of its own, with nothing but its parser) is served by
    straight-line code for its column, without a loop, a tuple to unpack or a test of options
    per cell. A text parser is not even called for a value it would return as is
    (``text_as_is_limit``), nor a parser with a memo for a value it has read before
    (``parser_memo``). Any other plan, or a cell that is not text, takes ``_cell_parse``.
    """
    env: dict[str, Any] = {
        "ParseError": ParseError,
        "_parse_failed": _parse_failed,
        "_cell_parse": _cell_parse,
        "_width_fit": _width_fit,
    }
    body = []
    for i, p in enumerate(plans):
        env[f"P{i}"] = p
        simple = (
            p.index is not None
            and p.default is None
            and p.value_map is None
            and not p.rules
            and p.regex is None
        )
        if not simple:
            body.append(f"_cell_parse(P{i}, raw, row, values)")
            continue
        env[f"p{i}"] = p.parse
        env[f"b{i}"] = p.blank
        attname = repr(p.attname)
        as_is = text_as_is_limit(p.parse)
        memo = parser_memo(p.parse)
        call = [
            "try:",
            f"    values[{attname}] = p{i}(v)",
            "except ParseError as exc:",
            f"    _parse_failed(row, P{i}, v, exc)",
        ]
        if as_is is not None:
            short = "" if as_is >= sys.maxsize else f" and len(v) <= {as_is}"
            found = [f'if v[0] != "\'"{short}:', f"    values[{attname}] = v", "else:"]
            found += ["    " + line for line in call]
        elif memo is not None:
            env[f"m{i}"] = memo.get
            found = [
                f"x = m{i}(v)",
                "if x is not None:",
                f"    values[{attname}] = x",
                "else:",
            ]
            found += ["    " + line for line in call]
        else:
            found = call
        if p.required:
            blank = f"row.error({p.column!r}, '', 'a value is required', 'required')"
        else:
            blank = f"values[{attname}] = b{i}"
        body += [
            f"v = raw[{p.index}]",
            "if v.__class__ is str:",
            "    v = v.strip()",
            "    if v:",
            *("        " + line for line in found),
            "    else:",
            f"        {blank}",
            "else:",
            f"    _cell_parse(P{i}, raw, row, values)",
        ]
    body.append("pass")
    lines = [
        "def row_parser(row, raw, values):",
        *("    " + line for line in body),
        "def rows_parser(rows, width):",
        "    for row in rows:",
        "        raw = row.raw",
        "        if len(raw) != width:",
        "            raw = _width_fit(row, width)",
        "            if raw is None:",
        "                continue",
        "        values = row.values",
        *("        " + line for line in body),
        "return row_parser, rows_parser",
    ]
    # The names above are closed over (fast to read), not globals.
    source = f"def make({', '.join(env)}):\n" + "\n".join("    " + line for line in lines)
    namespace: dict[str, Any] = {}
    exec(compile(source, "<row_parser>", "exec"), namespace)  # noqa: S102
    return namespace["make"](**env)


def row_parse(plans: Sequence[FieldPlan], row: Row, width: int) -> None:
    """Fill ``row.values`` from ``row.raw``; problems go to ``row.errors``.

    Pass the ``PlanList`` of ``plans_compile``: its compiled parsers are made once and kept.
    """
    raw = row.raw
    if len(raw) != width:
        raw = _width_fit(row, width)
        if raw is None:
            return
    parser = plans.row_parser() if isinstance(plans, PlanList) else _parsers_compile(plans)[0]
    parser(row, raw, row.values)


def rows_parse(plans: Sequence[FieldPlan], rows: Sequence[Row], width: int) -> None:
    """``row_parse`` for each of ``rows``, in one call (no call per row)."""
    parser = plans.rows_parser() if isinstance(plans, PlanList) else _parsers_compile(plans)[1]
    parser(rows, width)


def _width_fit(row: Row, width: int) -> Sequence[Any] | None:
    """A row's cells when they are not as many as the header's columns: without trailing empty
    cells (a stray delimiter is harmless), else None and the row has the error."""
    raw = row.raw
    if len(raw) > width and not any(_cell_text(v) for v in raw[width:]):
        return raw[:width]
    row.error("", "", f"the row has {len(raw)} values but the header has {width} columns")
    return None


def _cell_parse(p: FieldPlan, raw: Sequence[Any], row: Row, values: dict[str, Any]) -> None:
    """One plan's value from one row, whatever the plan has (constant, joined columns,
    default, value map, rules) and whatever the cell holds (a spreadsheet's numbers, None)."""
    if p.index is not None:
        value = raw[p.index]
    elif p.constant is not None:
        value = p.constant
    else:
        value = p.join_with.join(t for t in (_cell_text(raw[i]) for i in p.join) if t)
    if value.__class__ is str:
        value = value.strip()
        if not value:
            if p.default is None:
                _blank(p, row, values)
                return
            value = p.default
    elif value is None:
        if p.default is None:
            _blank(p, row, values)
            return
        value = p.default
    if p.value_map is not None and value.__class__ is str:
        value = p.value_map(value)
        if value == "" or value is None:
            _blank(p, row, values)
            return
    try:
        parsed = p.parse(value)
    except ParseError as exc:
        _parse_failed(row, p, value, exc)
        return
    if p.rules or p.regex is not None:
        problem = rule_problem(pattern=p.regex, rules=p.rules, raw=value, value=parsed)
        if problem:
            row.error(p.column, value, problem)
            return
    values[p.attname] = parsed


def _blank(p: FieldPlan, row: Row, values: dict[str, Any]) -> None:
    if p.required:
        row.error(p.column, "", "a value is required", "required")
    else:
        values[p.attname] = p.blank


def _parse_failed(row: Row, p: FieldPlan, value: Any, exc: ParseError) -> None:
    kind = PARSE_KINDS.get(p.field.type, "") if exc.kind == "invalid" else exc.kind
    row.error(p.column, value, exc.message, kind)
    if exc.kind != "invalid":
        p.tally[exc.kind] += 1
        if exc.kind not in p.examples:
            p.examples[exc.kind] = value


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)
