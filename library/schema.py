"""The shape of a saved template's ``mapping``, ``options`` and ``rules``, written once.

The web form, the API, the Django admin and the command line all call ``template_validate``
before a template is stored or used, so whatever people type, a stored template has a shape
the wizard and the export builder can read. Templates stored before this check (or written
straight into the database) are read through ``template_problems``: pages show such a
template flagged "needs attention" with the reason instead of failing.

Import templates:
    mapping  {file header: field name, or "" / null to ignore the column}
    options  {field: {default, constant, join, join_with, value_map, date_format, decimal,
                      thousands, negative_parentheses, strip_currency}}
    rules    {field: {required, min, max, regex, allowed, unique}}
Export templates:
    mapping  {"columns": [field, ...], "filters": {name: value or [values]}, "format": "xlsx"}
    options  {writer option: value} (e.g. delimiter, bom)
    rules    {} (exports have no rules)
"""

from __future__ import annotations

import re
from typing import Any

from jobs.errors import FerryError

SCALAR = (str, int, float, bool)
NUMBER = (int, float)

OPTION_KEYS = (
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
RULE_KEYS = ("required", "min", "max", "regex", "allowed", "unique")
EXPORT_MAPPING_KEYS = ("columns", "filters", "format")
DECIMAL_SEPARATORS = ("", ".", ",")
DATE_DIRECTIVES = re.compile(r"%[dmYyBbHMSjIpf]")

# Bounds that keep one template from holding a page or a worker hostage.
MAX_KEYS = 1000
MAX_TEXT = 1000


class TemplateShapeError(FerryError):
    """A template part that does not have the expected shape; safe to show as it is.

    ``field`` is the part ("mapping", "options" or "rules"), ``key`` the entry at fault.
    """

    def __init__(self, message: str, *, field: str, key: str = ""):
        super().__init__(message, code="template_shape")
        self.field = field
        self.key = key


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, NUMBER):
        return "a number"
    return type(value).__name__


def _fail(part: str, message: str, key: str = "") -> None:
    raise TemplateShapeError(message, field=part, key=key)


def _object(part: str, value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        _fail(part, f"{what} must be an object {{…}}, not {_kind(value)}.")
    if len(value) > MAX_KEYS:
        _fail(part, f"{what} has {len(value)} entries; at most {MAX_KEYS} are allowed.")
    for key in value:
        if not isinstance(key, str) or not key.strip():
            _fail(part, f"{what} has an empty name.")
        if len(key) > MAX_TEXT:
            _fail(part, f"{what} has a name longer than {MAX_TEXT} characters.", key[:40])
    return value


def _text(part: str, key: str, value: Any, what: str, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, str):
        _fail(part, f"{what} must be text, not {_kind(value)}.", key)
    if len(value) > MAX_TEXT:
        _fail(part, f"{what} is longer than {MAX_TEXT} characters.", key)


def _scalar(part: str, key: str, value: Any, what: str) -> None:
    if value is not None and not isinstance(value, SCALAR):
        _fail(
            part,
            f"{what} must be a single value (text, number or true/false), not {_kind(value)}.",
            key,
        )
    if isinstance(value, str) and len(value) > MAX_TEXT:
        _fail(part, f"{what} is longer than {MAX_TEXT} characters.", key)


def _flag(part: str, key: str, value: Any, what: str) -> None:
    if value is not None and not isinstance(value, bool):
        _fail(part, f"{what} must be true or false, not {_kind(value)}.", key)


def _import_mapping(mapping: Any) -> None:
    _object("mapping", mapping, "The mapping")
    for header, field in mapping.items():
        if field is not None and not isinstance(field, str):
            _fail(
                "mapping",
                f"The mapping of column '{header}' must be a field name (text), not "
                f"{_kind(field)}.",
                header,
            )


def _known_keys(part: str, field: str, given: dict, allowed, noun: str) -> None:
    """Refuse keys of a field's options or rules that Ferry does not know, naming the known."""
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        _fail(
            part,
            f"Unknown {noun} {', '.join(map(str, unknown))} for '{field}'. "
            f"Use: {', '.join(allowed)}.",
            field,
        )


def _field_options(field: str, opts: Any) -> None:
    part = "options"
    if not isinstance(opts, dict):
        _fail(part, f"The options of '{field}' must be an object {{…}}, not {_kind(opts)}.", field)
    _known_keys(part, field, opts, OPTION_KEYS, "option")
    _scalar(part, field, opts.get("default"), f"The default of '{field}'")
    _scalar(part, field, opts.get("constant"), f"The constant of '{field}'")
    join = opts.get("join")
    if join is not None and (
        not isinstance(join, list) or not all(isinstance(h, str) for h in join)
    ):
        _fail(part, f"The joined columns of '{field}' must be a list of column names.", field)
    _text(part, field, opts.get("join_with"), f"The separator of '{field}'", allow_none=True)
    value_map = opts.get("value_map")
    if value_map is not None:
        _object(part, value_map, f"The value map of '{field}'")
        for source, target in value_map.items():
            _scalar(part, field, target, f"The value map of '{field}' for '{source}'")
    date_format = opts.get("date_format")
    if date_format not in (None, ""):
        _text(part, field, date_format, f"The date format of '{field}'")
        if not DATE_DIRECTIVES.search(date_format):
            _fail(
                part,
                f"The date format of '{field}' ('{date_format}') has no date part such as "
                "%d, %m or %Y.",
                field,
            )
    decimal = opts.get("decimal")
    if decimal is not None and decimal not in DECIMAL_SEPARATORS:
        _fail(part, f"The decimal separator of '{field}' must be '.' or ','.", field)
    _text(
        part, field, opts.get("thousands"), f"The thousands separator of '{field}'", allow_none=True
    )
    _flag(part, field, opts.get("negative_parentheses"), f"negative_parentheses of '{field}'")
    _flag(part, field, opts.get("strip_currency"), f"strip_currency of '{field}'")


def _bound(field: str, name: str, value: Any) -> None:
    if value is None or value == "":
        return
    if isinstance(value, bool) or not isinstance(value, (*NUMBER, str)):
        _fail(
            "rules",
            f"The {name} rule of '{field}' must be a number or a date, not {_kind(value)}.",
            field,
        )


def _field_rules(field: str, rule: Any) -> None:
    part = "rules"
    if not isinstance(rule, dict):
        _fail(
            part,
            f"The rules of '{field}' must be an object such as {{\"required\": true}}, not "
            f"{_kind(rule)}.",
            field,
        )
    _known_keys(part, field, rule, RULE_KEYS, "rule")
    _flag(part, field, rule.get("required"), f"The required rule of '{field}'")
    _flag(part, field, rule.get("unique"), f"The unique rule of '{field}'")
    _bound(field, "min", rule.get("min"))
    _bound(field, "max", rule.get("max"))
    regex = rule.get("regex")
    if regex not in (None, ""):
        _text(part, field, regex, f"The pattern of '{field}'")
        try:
            re.compile(regex)
        except re.error as exc:
            _fail(
                part, f"The pattern of '{field}' is not a valid regular expression: {exc}.", field
            )
    allowed = rule.get("allowed")
    if allowed is not None:
        if not isinstance(allowed, list):
            _fail(
                part,
                f"The allowed values of '{field}' must be a list, not {_kind(allowed)}.",
                field,
            )
        for value in allowed:
            _scalar(part, field, value, f"An allowed value of '{field}'")


def _export_mapping(mapping: Any) -> None:
    _object("mapping", mapping, "The export settings")
    unknown = sorted(set(mapping) - set(EXPORT_MAPPING_KEYS))
    if unknown:
        _fail(
            "mapping",
            f"Unknown export setting {', '.join(unknown)}. Use: {', '.join(EXPORT_MAPPING_KEYS)}.",
            unknown[0],
        )
    columns = mapping.get("columns")
    if columns is not None and (
        not isinstance(columns, list) or not all(isinstance(c, str) for c in columns)
    ):
        _fail("mapping", "The columns must be a list of field names.", "columns")
    filters = mapping.get("filters")
    if filters is not None:
        _object("mapping", filters, "The filters")
        for name, value in filters.items():
            values = value if isinstance(value, list) else [value]
            for item in values:
                _scalar("mapping", name, item, f"The filter '{name}'")
    _text("mapping", "format", mapping.get("format"), "The format", allow_none=True)


def template_validate(*, template_type: str, mapping: Any, options: Any, rules: Any) -> None:
    """Raise TemplateShapeError naming the first part and key whose shape is wrong."""
    if template_type == "export":
        _export_mapping(mapping)
        _object("options", options, "The export options")
        for name, value in options.items():
            _scalar("options", name, value, f"The export option '{name}'")
        _object("rules", rules, "The rules")
        if rules:
            _fail("rules", "Export templates have no validation rules; leave rules empty.")
        return
    _import_mapping(mapping)
    _object("options", options, "The field options")
    for field, opts in options.items():
        _field_options(field, opts)
    _object("rules", rules, "The validation rules")
    for field, rule in rules.items():
        _field_rules(field, rule)


def template_shape_check(template) -> None:
    """``template_validate`` of a stored template's own fields (TemplateShapeError if bad)."""
    template_validate(
        template_type=template.template_type,
        mapping=template.mapping,
        options=template.options,
        rules=template.rules,
    )


def template_problem(template) -> str:
    """Why a stored template cannot be used as it is ("" when it can). Never raises."""
    try:
        template_shape_check(template)
    except TemplateShapeError as exc:
        return exc.message
    return ""


def template_usable_check(template) -> None:
    """TemplateShapeError (with a fix-it hint) unless the stored template can be applied."""
    problem = template_problem(template)
    if problem:
        raise TemplateShapeError(
            f"The template '{template.name}' needs attention before it can be used: {problem} "
            "Open it in the template library to fix it.",
            field="template",
        )
