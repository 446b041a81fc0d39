"""The filter sets generated from the resource declarations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from business import models as m
from business.filters import (
    InvalidFilter,
    filters_active,
    filters_apply,
    filters_describe,
    filterset_for,
)
from business.resources import registry, resource_get
from tests import factories as f

pytestmark = pytest.mark.django_db


def emails(qs) -> list[str]:
    return sorted(qs.values_list("email", flat=True))


def apply(name: str, org, **data):
    return filters_apply(resource=resource_get(name), organization=org, data=data)


def test_it_generates_a_filterset_for_every_resource_and_caches_it():
    for resource in registry.all():
        cls = filterset_for(resource)
        assert cls is filterset_for(resource)
        described = filters_describe(resource)
        assert {d["name"] for d in described} == set(cls.base_filters)
        for d in described:
            assert set(d) >= {"name", "label", "type", "choices"}
            assert d["label"]


def test_it_names_filters_by_field_type():
    names = {d["name"]: d for d in filters_describe(resource_get("sales-orders"))}
    assert {"q", "number", "customer", "order_date_from", "order_date_to", "status"} <= set(names)
    assert names["status"]["choices"][0] == {"value": "draft", "label": "Draft"}
    lines = {d["name"] for d in filters_describe(resource_get("sales-order-lines"))}
    assert {"quantity_min", "quantity_max", "unit_price_min", "line_number_max"} <= lines
    products = {d["name"] for d in filters_describe(resource_get("products"))}
    assert {"is_active", "parent", "category", "unit_cost_min"} <= products
    audit = {d["name"] for d in filters_describe(resource_get("audit-events"))}
    assert {"time_from", "time_to", "event_type", "user"} <= audit


def test_it_filters_text_case_insensitively_contains(org):
    f.ContactFactory(organization=org, email="ada@example.com", first_name="Ada")
    f.ContactFactory(organization=org, email="bob@example.com", first_name="Bob")
    assert emails(apply("contacts", org, first_name="aD")) == ["ada@example.com"]
    assert emails(apply("contacts", org, email="BOB@")) == ["bob@example.com"]


def test_it_searches_free_text_across_text_fields(org):
    f.ContactFactory(organization=org, email="a@x.com", first_name="Grace", last_name="Hopper")
    f.ContactFactory(organization=org, email="b@x.com", first_name="Alan", title="Hopper fan")
    f.ContactFactory(organization=org, email="c@x.com", first_name="Linus", last_name="T")
    assert emails(apply("contacts", org, q="hopper")) == ["a@x.com", "b@x.com"]
    # Every word must match somewhere.
    assert emails(apply("contacts", org, q="hopper grace")) == ["a@x.com"]


def test_it_searches_references_where_a_resource_has_no_text(org):
    product = f.ProductFactory(organization=org, sku="11400")
    line = f.SalesOrderLineFactory(
        organization=org, order=f.SalesOrderFactory(customer=f.CustomerFactory(organization=org))
    )
    f.SalesOrderLineFactory(
        organization=org,
        order=line.order,
        product=product,
        line_number=99,
    )
    qs = apply("sales-order-lines", org, q="11400")
    assert [x.product.sku for x in qs] == ["11400"]


def test_it_filters_choices_with_one_or_several_values(org):
    f.ContactFactory(organization=org, email="l@x.com", lifecycle_stage="lead")
    f.ContactFactory(organization=org, email="p@x.com", lifecycle_stage="prospect")
    f.ContactFactory(organization=org, email="c@x.com", lifecycle_stage="customer")
    assert emails(apply("contacts", org, lifecycle_stage="lead")) == ["l@x.com"]
    assert emails(apply("contacts", org, lifecycle_stage=["lead", "customer"])) == [
        "c@x.com",
        "l@x.com",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", ["n@x.com"]), ("false", ["y@x.com"]), ("No", ["y@x.com"]), (True, ["n@x.com"])],
)
def test_it_filters_booleans(org, value, expected):
    f.ContactFactory(organization=org, email="n@x.com", do_not_email=True)
    f.ContactFactory(organization=org, email="y@x.com", do_not_email=False)
    assert emails(apply("contacts", org, do_not_email=value)) == expected


def test_it_filters_date_ranges_inclusively(org):
    customer = f.CustomerFactory(organization=org)
    for day in (1, 10, 20):
        f.SalesOrderFactory(customer=customer, number=f"SO-{day}", order_date=dt.date(2024, 3, day))

    def numbers(**data):
        return sorted(apply("sales-orders", org, **data).values_list("number", flat=True))

    assert numbers(order_date_from="2024-03-10") == ["SO-10", "SO-20"]
    assert numbers(order_date_to="2024-03-10") == ["SO-1", "SO-10"]
    assert numbers(order_date_from="2024-03-10", order_date_to="2024-03-10") == ["SO-10"]
    assert numbers(order_date_from=dt.date(2024, 3, 11)) == ["SO-20"]


def test_it_filters_datetime_ranges_by_whole_days(org):
    def event(day: int, hour: int, object_id: str):
        return m.AuditEvent.objects.create(
            organization=org,
            time=timezone.make_aware(dt.datetime(2024, 5, day, hour, 30)),
            event_type="login",
            object_id=object_id,
        )

    event(1, 23, "late-first")
    event(2, 0, "early-second")
    event(2, 23, "late-second")
    event(3, 0, "third")

    def ids(**data):
        return sorted(apply("audit-events", org, **data).values_list("object_id", flat=True))

    assert ids(time_from="2024-05-02", time_to="2024-05-02") == ["early-second", "late-second"]
    assert ids(time_to="2024-05-01") == ["late-first"]
    assert ids(time_from="2024-05-02T12:00") == ["late-second", "third"]


def test_it_filters_number_ranges_inclusively(org):
    for sku, cost in (("A", "5.00"), ("B", "10.00"), ("C", "15.50")):
        f.ProductFactory(organization=org, sku=sku, unit_cost=Decimal(cost))

    def skus(**data):
        return sorted(apply("products", org, **data).values_list("sku", flat=True))

    assert skus(unit_cost_min="10") == ["B", "C"]
    assert skus(unit_cost_max="10.00") == ["A", "B"]
    assert skus(unit_cost_min=Decimal("5"), unit_cost_max=15) == ["A", "B"]


def test_it_filters_references_by_the_related_natural_key(org):
    acme = f.AccountFactory(organization=org, name="Acme Corp")
    globex = f.AccountFactory(organization=org, name="Globex")
    f.ContactFactory(organization=org, email="a@x.com", account=acme)
    f.ContactFactory(organization=org, email="g@x.com", account=globex)
    f.ContactFactory(organization=org, email="none@x.com")
    assert emails(apply("contacts", org, account="acme")) == ["a@x.com"]

    parent = f.ProductFactory(organization=org, sku="11400")
    f.ProductFactory(organization=org, sku="11400-BE", parent=parent)
    f.ProductFactory(organization=org, sku="22000")
    skus = apply("products", org, parent="11400").values_list("sku", flat=True)
    assert list(skus) == ["11400-BE"]


def test_it_scopes_to_the_organization_before_filtering(org, other_org):
    f.ContactFactory(organization=org, email="same@x.com", first_name="Mine")
    f.ContactFactory(organization=other_org, email="same@x.com", first_name="Theirs")
    f.ContactFactory(organization=other_org, email="only-theirs@x.com")
    qs = apply("contacts", org, email="x.com")
    assert [c.first_name for c in qs] == ["Mine"]
    assert apply("contacts", org).count() == 1


def test_it_ignores_empty_values(org):
    f.ContactFactory(organization=org, email="a@x.com")
    assert apply("contacts", org, first_name="", do_not_email="", birth_date_from="").count() == 1


@pytest.mark.parametrize(
    ("resource", "data", "message"),
    [
        (
            "sales-orders",
            {"order_date_from": "2024-13-01"},
            "Filter 'order_date_from': '2024-13-01' is not a valid date",
        ),
        (
            "products",
            {"unit_cost_max": "cheap"},
            "Filter 'unit_cost_max': 'cheap' is not a valid number",
        ),
        (
            "contacts",
            {"do_not_email": "maybe"},
            "Filter 'do_not_email': 'maybe' is not true or false",
        ),
        (
            "contacts",
            {"lifecycle_stage": ["lead", "vip"]},
            "Filter 'lifecycle_stage': 'vip' is not one of lead, prospect, customer",
        ),
        (
            "audit-events",
            {"time_to": "yesterday"},
            "Filter 'time_to': 'yesterday' is not a valid date or date-time",
        ),
    ],
)
def test_it_rejects_invalid_values_naming_filter_and_value(org, resource, data, message):
    with pytest.raises(InvalidFilter) as info:
        filters_apply(resource=resource_get(resource), organization=org, data=data)
    assert str(info.value) == message
    assert info.value.message == message
    assert info.value.name == next(iter(data))


def test_it_rejects_unknown_filter_names(org):
    with pytest.raises(InvalidFilter, match="Unknown filter 'colour' for Contacts"):
        apply("contacts", org, colour="red")
    # A date filter on a text field does not exist either.
    with pytest.raises(InvalidFilter, match="Unknown filter 'email_from'"):
        apply("contacts", org, email_from="2024-01-01")


def test_it_skips_names_the_caller_asks_to_ignore(org):
    f.ContactFactory(organization=org, email="a@x.com")
    qs = filters_apply(
        resource=resource_get("contacts"),
        organization=org,
        data={"sort": "email", "page": "2", "email": "a@"},
        ignore=("sort", "page"),
    )
    assert emails(qs) == ["a@x.com"]


def test_it_describes_active_filters_with_labels():
    active = filters_active(
        resource=resource_get("contacts"),
        data={"lifecycle_stage": ["lead", "customer"], "email": "x", "page": "2", "q": ""},
        ignore=("page",),
    )
    assert active == [
        {"name": "lifecycle_stage", "label": "Lifecycle stage", "value": "Lead, Customer"},
        {"name": "email", "label": "Email", "value": "x"},
    ]
