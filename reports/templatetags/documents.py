"""Filters the document templates format with: the organization's currency and locale."""

from __future__ import annotations

from django import template

from accounts.formats import (
    date_format,
    money_format,
    number_format,
    percent_format,
    quantity_format,
)

register = template.Library()


@register.filter
def org_money(value, organization):
    return money_format(value, organization=organization)


@register.filter
def org_number(value, organization):
    return number_format(value, organization=organization)


@register.filter
def org_qty(value, organization):
    return quantity_format(value, organization=organization)


@register.filter
def org_percent(value, organization):
    return percent_format(value, organization=organization)


@register.filter
def org_date(value, organization):
    return date_format(value, organization=organization)


@register.simple_tag
def documents_printable(codes):
    """The document kinds a member with these permission codes may print, as (kind, name)."""
    from reports.documents.kinds import documents_all

    return [(d.identifier, d.name) for d in documents_all() if d.permission in (codes or ())]
