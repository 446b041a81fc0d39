"""django-tables2 tables generated from the resource declarations (the records pages).

The columns are the resource's default export fields, so what a person browses is what an
export gives them; a reference column shows the related record's natural key (an order's
customer code, a contact's account name), read through a join rather than a query per row.

django-tables2 declares the columns, sorts and paginates; the body rows are written by
``FastRowsTable.rows_html`` (jobs/fast_rows.py) instead of its per-cell machinery, which cost
~60 % of the page's CPU (bench/bench_web.py --cpu); ``_value_getter`` reads a cell's value as
django-tables2 would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import django_tables2 as tables
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db import models
from django.template import Context
from django.utils import timezone
from django_tables2 import A, RequestConfig

from business.resources.base import Field, FieldType, Resource
from jobs.fast_rows import CellWriter, FastRowsTable, value_cell_writer

T = FieldType

NUMBER_TYPES = (T.INTEGER, T.DECIMAL, T.MONEY)
PER_PAGE_CHOICES = (25, 50, 100)
TABLE_TEMPLATE = "business/records_table.html"


def _plain_decimal(value: Decimal) -> str:
    """Quantities without trailing zeros (3.000 → 3, 2.500 → 2.5), grouped by thousands."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    text = f"{value:,f}".rstrip("0")
    return text.rstrip(".")


class MoneyColumn(tables.Column):
    def render(self, value):
        return f"{Decimal(value):,.2f}"


class NumberColumn(tables.Column):
    def render(self, value):
        if isinstance(value, Decimal):
            return _plain_decimal(value)
        return f"{value:,}" if isinstance(value, int) else value


class YesNoColumn(tables.Column):
    # A boolean False is a value, not "empty": only None shows the dash.
    empty_values = (None, "")

    def render(self, value):
        return "Yes" if value else "No"


class DateColumn(tables.Column):
    def render(self, value):
        return value.isoformat() if isinstance(value, dt.date) else value


class DateTimeColumn(tables.Column):
    def render(self, value):
        if isinstance(value, dt.datetime):
            return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        return value


def _num_attrs() -> dict:
    return {"th": {"class": "num"}, "td": {"class": "num nowrap"}}


NOWRAP = {"td": {"class": "nowrap"}}
# Short text (phones, codes, SKUs) reads badly when wrapped; names and notes may wrap.
SHORT_TEXT = 64


def column_for(field: Field) -> tables.Column:
    common = {"verbose_name": field.label}
    if field.type == T.REFERENCE:
        return tables.Column(accessor=field.export_path, order_by=(field.export_path,), **common)
    if field.type == T.MONEY:
        return MoneyColumn(attrs=_num_attrs(), **common)
    if field.type in NUMBER_TYPES:
        return NumberColumn(attrs=_num_attrs(), **common)
    if field.type == T.BOOLEAN:
        return YesNoColumn(**common)
    if field.type == T.DATE:
        return DateColumn(attrs=NOWRAP, **common)
    if field.type == T.DATETIME:
        return DateTimeColumn(attrs=NOWRAP, **common)
    if field.type == T.EMAIL or (field.max_length and field.max_length <= SHORT_TEXT):
        return tables.Column(attrs=NOWRAP, **common)
    return tables.Column(**common)


def _value_getter(accessor: str, model: type[models.Model]) -> Callable[[Any], Any]:
    """What django-tables2 shows for ``accessor`` on a record, worked out once per column: a
    choice field's label (``get_<field>_display``), ``None`` across a missing relation or
    attribute, a callable called."""
    path, _, last = accessor.rpartition(A.SEPARATOR)
    bits = path.split(A.SEPARATOR) if path else []
    display = (
        f"get_{last}_display" if getattr(A(accessor).get_field(model), "choices", None) else ""
    )

    def get(record):
        obj = record
        for bit in bits:
            obj = getattr(obj, bit, None)
            if obj is None:
                return None
        if display and isinstance(obj, models.Model):
            label = getattr(obj, display, None)
            if label is not None:
                return label()
        value = getattr(obj, last, None)
        if callable(value) and not getattr(value, "alters_data", False):
            value = value()
        return value

    return get


class RecordsTable(FastRowsTable):
    """A records table whose body rows skip django-tables2's per-cell work (module docstring)."""

    def cell_writer(self, bound, context: Context) -> CellWriter:
        column = bound.column
        if isinstance(column, tables.TemplateColumn):
            return super().cell_writer(bound, context)
        # Column.render is the identity; our subclasses format the value (money, dates...).
        render = None if type(column).render is tables.Column.render else column.render
        get = _value_getter(str(bound.accessor), self.data.model)
        return value_cell_writer(get, bound=bound, context=context, render=render)


_TABLES: dict[str, type[RecordsTable]] = {}


def table_for(resource: type[Resource]) -> type[RecordsTable]:
    """The Table class of a resource (generated once, then cached)."""
    if resource.name not in _TABLES:
        attrs: dict = {field.name: column_for(field) for field in resource.default_export_fields()}
        sequence = [f.name for f in resource.default_export_fields()]
        # A resource may declare per-row templates (a selection box first, actions last).
        select = getattr(resource, "records_select_template", "")
        if select:
            attrs["select"] = tables.TemplateColumn(
                template_name=select, verbose_name="", orderable=False, exclude_from_export=True
            )
            sequence.insert(0, "select")
        row = getattr(resource, "records_row_template", "")
        if row:
            attrs["row_actions"] = tables.TemplateColumn(
                template_name=row, verbose_name="PDF", orderable=False, exclude_from_export=True
            )
            sequence.append("row_actions")
        attrs["Meta"] = type(
            "Meta",
            (),
            {
                "template_name": TABLE_TEMPLATE,
                "attrs": {"class": "records"},
                "empty_text": f"No {resource.label.lower()} match.",
                "sequence": tuple(sequence),
            },
        )
        class_name = "".join(part.capitalize() for part in resource.name.split("-")) + "Table"
        _TABLES[resource.name] = type(class_name, (RecordsTable,), attrs)
    return _TABLES[resource.name]


def per_page_from(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return PER_PAGE_CHOICES[0]
    return number if number in PER_PAGE_CHOICES else PER_PAGE_CHOICES[0]


def table_build(*, resource: type[Resource], queryset, request, per_page: int) -> RecordsTable:
    """The resource's table over ``queryset``, sorted as the request asks and paginated."""
    table = table_for(resource)(queryset)
    # Sorting from the request; paging here because tables2 would honour any ?per_page=.
    RequestConfig(request, paginate=False).configure(table)
    try:
        table.paginate(page=request.GET.get("page", 1), per_page=per_page)
    except PageNotAnInteger:
        table.paginate(page=1, per_page=per_page)
    except EmptyPage:
        table.paginate(page=table.paginator.num_pages, per_page=per_page)
    return table
