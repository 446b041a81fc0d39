"""django-tables2 tables generated from the resource declarations (the records pages).

The columns are the resource's default export fields, so what a person browses is what an
export gives them; a reference column shows the related record's natural key (an order's
customer code, a contact's account name), read through a join rather than a query per row.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import django_tables2 as tables
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.utils import timezone
from django_tables2 import RequestConfig

from business.resources.base import Field, FieldType, Resource

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


_TABLES: dict[str, type[tables.Table]] = {}


def table_for(resource: type[Resource]) -> type[tables.Table]:
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
        _TABLES[resource.name] = type(class_name, (tables.Table,), attrs)
    return _TABLES[resource.name]


def per_page_from(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return PER_PAGE_CHOICES[0]
    return number if number in PER_PAGE_CHOICES else PER_PAGE_CHOICES[0]


def table_build(*, resource: type[Resource], queryset, request, per_page: int) -> tables.Table:
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
