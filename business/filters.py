"""Filter sets generated from the resource declarations.

The records pages, the export builder, the API and the command line all filter a resource the
same way, so the filters are derived once from ``Resource.fields`` rather than written per model:

- text / e-mail      ``<name>``               contains (case-insensitive)
- choice             ``<name>``               one or more exact values
- boolean            ``<name>``               ``true`` / ``false``
- date / datetime    ``<name>_from``, ``<name>_to``   inclusive range
- integer / decimal / money  ``<name>_min``, ``<name>_max``   inclusive range
- reference          ``<name>``               contains, on the related record's natural key
- ``q``                                       free text across the resource's text fields

Filtering always starts from ``resource.queryset(organization)``: scoping comes first, so no
filter value can reach another organization's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import django_filters
from django import forms
from django.db import models
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from business.resources.base import Field, FieldType, Resource
from jobs.errors import FerryError
from jobs.fast_widgets import FastForm

T = FieldType

TEXT_TYPES = (T.TEXT, T.EMAIL)
NUMBER_TYPES = (T.INTEGER, T.DECIMAL, T.MONEY)
DATE_TYPES = (T.DATE, T.DATETIME)

# Choice lists longer than this render as a multi-select instead of checkboxes.
CHECKBOX_LIMIT = 6

SEARCH_NAME = "q"


class InvalidFilter(FerryError):
    """A filter name the resource does not have, or a value that cannot be read."""

    def __init__(self, message: str, *, name: str = "", value: Any = None):
        super().__init__(message, code="invalid_filter")
        self.name = name
        self.value = value


# --- form fields that say no instead of guessing ---------------------------------------------


TRUE_WORDS = frozenset({"true", "1", "yes", "y", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "off"})


class StrictBooleanField(forms.Field):
    """``true``/``false`` (and yes/no, 1/0); Django's NullBooleanField turns typos into "any"."""

    widget = forms.Select(choices=(("", "Any"), ("true", "Yes"), ("false", "No")))

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise forms.ValidationError("not true or false", code="invalid")

    def validate(self, value):
        # ``required`` is never set on a filter; None means "no filter".
        return None


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class DateOrDateTimeField(forms.Field):
    """An ISO date (a whole day) or an ISO date-time, for the bounds of a date-time range."""

    widget = forms.DateInput(attrs={"type": "date"})

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, dt.datetime | dt.date):
            return value
        text = str(value).strip()
        try:
            parsed = parse_datetime(text) if ("T" in text or " " in text) else parse_date(text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError("not a valid date or date-time", code="invalid")
        return parsed


class DateTimeBoundFilter(django_filters.Filter):
    """Inclusive bound on a date-time field; a bare date covers that whole (local) day."""

    field_class = DateOrDateTimeField

    def __init__(self, *args, upper: bool = False, **kwargs):
        self.upper = upper
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        if isinstance(value, dt.datetime):
            if timezone.is_naive(value):
                value = timezone.make_aware(value)
            lookup = "lte" if self.upper else "gte"
            return qs.filter(**{f"{self.field_name}__{lookup}": value})
        # A date: from its first instant, or up to (not including) the next day's first instant.
        start = timezone.make_aware(dt.datetime.combine(value, dt.time.min))
        if self.upper:
            return qs.filter(**{f"{self.field_name}__lt": start + dt.timedelta(days=1)})
        return qs.filter(**{f"{self.field_name}__gte": start})


# --- generation ------------------------------------------------------------------------------


def _search_paths(resource: type[Resource]) -> list[str]:
    paths = [f.model_attr for f in resource.fields if f.type in TEXT_TYPES]
    if not paths:
        # Order lines and stock rows have no text of their own; search their references' keys.
        paths = [f.export_path for f in resource.fields if f.type == T.REFERENCE]
    return paths


def _search_method(paths: list[str]):
    def search(queryset, name, value):
        words = value.split()
        for word in words:
            condition = Q()
            for path in paths:
                condition |= Q(**{f"{path}__icontains": word})
            queryset = queryset.filter(condition)
        return queryset

    return search


def _filters_for_field(field: Field) -> dict[str, tuple[django_filters.Filter, dict]]:
    """Filter name → (filter, description) for one declared field."""
    label = field.label
    out: dict[str, tuple[django_filters.Filter, dict]] = {}

    def describe(name, flabel, lookup, choices=()):
        return {
            "name": name,
            "label": flabel,
            "type": field.type,
            "choices": [{"value": v, "label": lbl} for v, lbl in choices],
            "field": field.name,
            "lookup": lookup,
        }

    if field.type in TEXT_TYPES:
        out[field.name] = (
            django_filters.CharFilter(
                field_name=field.model_attr, lookup_expr="icontains", label=label
            ),
            describe(field.name, label, "icontains"),
        )
    elif field.type == T.REFERENCE:
        out[field.name] = (
            django_filters.CharFilter(
                field_name=field.export_path, lookup_expr="icontains", label=label
            ),
            describe(field.name, label, "icontains"),
        )
    elif field.type == T.CHOICE:
        widget = (
            forms.CheckboxSelectMultiple
            if len(field.choices) <= CHECKBOX_LIMIT
            else forms.SelectMultiple
        )
        out[field.name] = (
            django_filters.MultipleChoiceFilter(
                field_name=field.model_attr,
                choices=list(field.choices),
                label=label,
                widget=widget,
            ),
            describe(field.name, label, "in", field.choices),
        )
    elif field.type == T.BOOLEAN:
        out[field.name] = (
            StrictBooleanFilter(field_name=field.model_attr, label=label),
            describe(field.name, label, "exact", (("true", "Yes"), ("false", "No"))),
        )
    elif field.type == T.DATE:
        for suffix, lookup, word in (("from", "gte", "from"), ("to", "lte", "to")):
            name = f"{field.name}_{suffix}"
            out[name] = (
                django_filters.DateFilter(
                    field_name=field.model_attr,
                    lookup_expr=lookup,
                    label=f"{label} {word}",
                    widget=forms.DateInput(attrs={"type": "date"}),
                ),
                describe(name, f"{label} {word}", lookup),
            )
    elif field.type == T.DATETIME:
        for suffix, upper, word in (("from", False, "from"), ("to", True, "to")):
            name = f"{field.name}_{suffix}"
            out[name] = (
                DateTimeBoundFilter(
                    field_name=field.model_attr, upper=upper, label=f"{label} {word}"
                ),
                describe(name, f"{label} {word}", "lte" if upper else "gte"),
            )
    elif field.type in NUMBER_TYPES:
        for suffix, lookup, word in (("min", "gte", "at least"), ("max", "lte", "at most")):
            name = f"{field.name}_{suffix}"
            out[name] = (
                django_filters.NumberFilter(
                    field_name=field.model_attr,
                    lookup_expr=lookup,
                    label=f"{label} {word}",
                    widget=forms.NumberInput(attrs={"step": "any"}),
                ),
                describe(name, f"{label} {word}", lookup),
            )
    return out


_FILTERSETS: dict[str, type[django_filters.FilterSet]] = {}
_DESCRIPTIONS: dict[str, list[dict]] = {}


def _build(resource: type[Resource]) -> None:
    attrs: dict[str, Any] = {}
    described: list[dict] = []
    paths = _search_paths(resource)
    if paths:
        attrs[SEARCH_NAME] = django_filters.CharFilter(
            method=_search_method(paths),
            label="Search",
            widget=forms.TextInput(attrs={"type": "search"}),
        )
        described.append(
            {
                "name": SEARCH_NAME,
                "label": "Search",
                "type": "search",
                "choices": [],
                "field": None,
                "lookup": "search",
            }
        )
    for field in resource.fields:
        for name, (flt, description) in _filters_for_field(field).items():
            attrs[name] = flt
            described.append(description)

    # FastForm: its widgets are written without a template per option (jobs/fast_widgets.py).
    meta = type("Meta", (), {"model": resource.model, "fields": [], "form": FastForm})
    attrs["Meta"] = meta
    class_name = "".join(part.capitalize() for part in resource.name.split("-")) + "FilterSet"
    _FILTERSETS[resource.name] = type(class_name, (django_filters.FilterSet,), attrs)
    _DESCRIPTIONS[resource.name] = described


def filterset_for(resource: type[Resource]) -> type[django_filters.FilterSet]:
    """The FilterSet class of a resource (generated once, then cached)."""
    if resource.name not in _FILTERSETS:
        _build(resource)
    return _FILTERSETS[resource.name]


def filters_describe(resource: type[Resource]) -> list[dict]:
    """Every filter of a resource: name, label, type, choices (plus the field and lookup)."""
    filterset_for(resource)
    return [dict(d, choices=list(d["choices"])) for d in _DESCRIPTIONS[resource.name]]


def filter_names(resource: type[Resource]) -> frozenset[str]:
    return frozenset(filterset_for(resource).base_filters)


# --- applying --------------------------------------------------------------------------------


def _as_querydict(data: Mapping[str, Any], ignore: Iterable[str]) -> QueryDict:
    if isinstance(data, QueryDict):
        items = data.lists()
    else:
        items = (
            (k, list(v) if isinstance(v, list | tuple | set | frozenset) else [v])
            for k, v in data.items()
        )
    skip = set(ignore)
    qd = QueryDict(mutable=True)
    for key, values in items:
        if key in skip:
            continue
        cleaned = [_as_text(v) for v in values if v is not None and _as_text(v).strip() != ""]
        if cleaned:
            qd.setlist(key, cleaned)
    return qd


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


_KIND = {
    T.DATE: "a valid date",
    T.DATETIME: "a valid date or date-time",
    T.INTEGER: "a valid number",
    T.DECIMAL: "a valid number",
    T.MONEY: "a valid number",
    T.BOOLEAN: "true or false",
}


def _invalid_message(resource: type[Resource], name: str, values: list[str]) -> str:
    by_name = {d["name"]: d for d in _DESCRIPTIONS[resource.name]}
    description = by_name.get(name, {})
    field_type = description.get("type")
    shown = ", ".join(f"'{v}'" for v in values) if values else "''"
    if field_type == T.CHOICE:
        allowed = {c["value"] for c in description["choices"]}
        bad = [v for v in values if v not in allowed] or values
        return (
            f"Filter '{name}': '{bad[0]}' is not one of "
            f"{', '.join(c['value'] for c in description['choices'])}"
        )
    kind = _KIND.get(field_type, "a valid value")
    return f"Filter '{name}': {shown} is not {kind}"


def filterset_bind(
    *,
    resource: type[Resource],
    organization,
    data: Mapping[str, Any],
    ignore: Iterable[str] = (),
) -> django_filters.FilterSet:
    """A bound FilterSet over the organization's records (for pages that render its form)."""
    cls = filterset_for(resource)
    return cls(data=_as_querydict(data, ignore), queryset=resource.queryset(organization))


def filters_validate(
    *, resource: type[Resource], data: Mapping[str, Any], ignore: Iterable[str] = ()
) -> dict[str, list[str]]:
    """Raise InvalidFilter for an unknown name or a bad value; return the cleaned-up data."""
    qd = _as_querydict(data, ignore)
    _filterset_checked(resource, qd, resource.model._default_manager.none())
    return {key: qd.getlist(key) for key in qd}


def _filterset_checked(
    resource: type[Resource], qd: QueryDict, queryset: models.QuerySet
) -> django_filters.FilterSet:
    """The FilterSet bound to ``qd`` over ``queryset``, once every name and value is known good
    (InvalidFilter otherwise)."""
    known = filter_names(resource)
    for key in qd:
        if key not in known:
            raise InvalidFilter(
                f"Unknown filter '{key}' for {resource.label}. "
                f"Known filters: {', '.join(sorted(known))}",
                name=key,
                value=qd.get(key),
            )
    filterset = filterset_for(resource)(data=qd, queryset=queryset)
    form = filterset.form
    if not form.is_valid():
        name = next(iter(form.errors))
        raise InvalidFilter(
            _invalid_message(resource, name, qd.getlist(name)),
            name=name,
            value=qd.get(name),
        )
    return filterset


def filters_apply(
    *,
    resource: type[Resource],
    organization,
    data: Mapping[str, Any],
    ignore: Iterable[str] = (),
) -> models.QuerySet:
    """The organization's records of a resource narrowed by ``data`` (filter name → value).

    ``data`` may be a dict (values as strings, lists, dates, numbers or booleans) or a QueryDict.
    Empty values mean "no filter". Names in ``ignore`` (e.g. a page's own ``sort``/``page``
    parameters) are skipped; any other unknown name raises ``InvalidFilter``, because silently
    dropping a misspelt filter would export or show more rows than the person asked for.
    """
    # One FilterSet checks the data and filters the records (its form is cleaned once).
    qd = _as_querydict(data, ignore)
    return _filterset_checked(resource, qd, resource.queryset(organization)).qs


def filters_active(
    *, resource: type[Resource], data: Mapping[str, Any], ignore: Iterable[str] = ()
) -> list[dict]:
    """The filters in use, as label/value pairs (for "filters used" lines on pages and PDFs)."""
    qd = _as_querydict(data, ignore)
    by_name = {d["name"]: d for d in filters_describe(resource)}
    out = []
    for key in qd:
        if key in by_name:
            values = qd.getlist(key)
            description = by_name[key]
            if description["choices"]:
                labels = {c["value"]: c["label"] for c in description["choices"]}
                values = [labels.get(v, v) for v in values]
            out.append({"name": key, "label": description["label"], "value": ", ".join(values)})
    return out


# Shown up front on a records page; the rest (text, references, numbers) under "More filters".
PRIMARY_TYPES = ("search", T.CHOICE, T.BOOLEAN, T.DATE, T.DATETIME)


def filter_fields_split(form, resource: type[Resource]) -> tuple[list[dict], list[dict]]:
    """The filter form laid out: the usual filters, and the rest ("More filters").

    Each item is ``{"field": bound}`` or, for the two ends of a range, ``{"label": ...,
    "low": bound, "high": bound}`` so a page shows "Order date  from … to …" together.
    """
    described = {d["name"]: d for d in filters_describe(resource)}
    labels = {f.name: f.label for f in resource.fields}
    bound = {b.name: b for b in form}
    primary, secondary = [], []
    for name, b in bound.items():
        d = described.get(name, {})
        field_name, lookup = d.get("field"), d.get("lookup")
        if lookup in ("gte", "lte") and field_name:
            if lookup == "lte":
                continue  # rendered with its lower end
            high = next(
                (
                    x
                    for n, x in bound.items()
                    if n != name and described[n].get("field") == field_name
                ),
                None,
            )
            item = {"label": labels[field_name], "low": b, "high": high, "type": d["type"]}
        else:
            item = {"field": b}
        (primary if d.get("type") in PRIMARY_TYPES else secondary).append(item)
    return primary, secondary


def select_related_paths(resource: type[Resource]) -> list[str]:
    """The relations to join when showing a resource's references (no query per row)."""
    return sorted({f.model_attr for f in resource.fields if f.type == T.REFERENCE})


# References are searched by their natural key (contains); the browser offers the
# organization's keys while typing. A very large book offers only the first ones.
SUGGESTIONS = 500


def filter_suggestions(form, *, resource: type[Resource], organization) -> dict[str, list[str]]:
    """Reference filters as searchable selects: each gets a ``list`` attribute naming a
    datalist, and the datalists' values (the related records' keys) are returned by id."""
    from business.resources import UnknownResource, resource_get

    lists: dict[str, list[str]] = {}
    for field in resource.fields:
        if field.type != T.REFERENCE or field.name not in form.fields:
            continue
        try:
            related = resource_get(field.ref.resource)
        except UnknownResource:
            continue  # e.g. an audit event's user: not a record Ferry exports
        keys = (
            related.queryset(organization)
            .order_by(field.ref.key)
            .values_list(field.ref.key, flat=True)
            .distinct()[:SUGGESTIONS]
        )
        list_id = f"suggest-{field.name}"
        widget = form.fields[field.name].widget
        widget.attrs.update({"list": list_id, "autocomplete": "off"})
        lists[list_id] = [k for k in keys if k]
    return lists
