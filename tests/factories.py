"""Factories for domain data (factory-boy). Every record belongs to an organization."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from accounts.models import Membership, Organization
from accounts.permissions import Role
from business import models as m


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("pass-Word-123")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.OPS


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Account

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Account {n}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Contact

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    first_name = "Ada"
    last_name = factory.Sequence(lambda n: f"Lovelace{n}")


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Lead

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    company_name = "Acme"


class ProductCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ProductCategory

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Category {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Product

    organization = factory.SubFactory(OrganizationFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    unit_cost = Decimal("10.00")
    list_price = Decimal("25.00")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Customer

    organization = factory.SubFactory(OrganizationFactory)
    code = factory.Sequence(lambda n: f"C{n:05d}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    credit_limit = Decimal("5000.00")


class CreditTransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.CreditTransaction

    organization = factory.SelfAttribute("customer.organization")
    customer = factory.SubFactory(CustomerFactory)
    reference = factory.Sequence(lambda n: f"CT-{n:06d}")
    date = factory.LazyFunction(dt.date.today)
    kind = m.CreditTransaction.Kind.CHARGE
    amount = Decimal("100.00")


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Warehouse

    organization = factory.SubFactory(OrganizationFactory)
    code = factory.Sequence(lambda n: f"WH{n}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")


class SalesOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.SalesOrder

    organization = factory.SelfAttribute("customer.organization")
    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"SO-{n:06d}")
    order_date = factory.LazyFunction(dt.date.today)
    status = m.SalesOrder.Status.CONFIRMED


class SalesOrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.SalesOrderLine

    organization = factory.SelfAttribute("order.organization")
    order = factory.SubFactory(SalesOrderFactory)
    line_number = factory.Sequence(lambda n: n + 1)
    product = factory.SubFactory(
        ProductFactory, organization=factory.SelfAttribute("..organization")
    )
    quantity = Decimal("2")
    unit_price = Decimal("25.00")
    unit_cost = Decimal("10.00")


class StockItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.StockItem

    organization = factory.SubFactory(OrganizationFactory)
    product = factory.SubFactory(
        ProductFactory, organization=factory.SelfAttribute("..organization")
    )
    warehouse = factory.SubFactory(
        WarehouseFactory, organization=factory.SelfAttribute("..organization")
    )
    quantity = Decimal("10")


class StockMovementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.StockMovement

    organization = factory.SubFactory(OrganizationFactory)
    reference = factory.Sequence(lambda n: f"MV-{n:06d}")
    product = factory.SubFactory(
        ProductFactory, organization=factory.SelfAttribute("..organization")
    )
    quantity = Decimal("5")
    date = factory.LazyFunction(dt.date.today)
