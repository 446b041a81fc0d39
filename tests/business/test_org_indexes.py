"""Business tables have no index of the organization alone (``OrgModel``): each must have a
unique constraint or index that starts with the organization, or every query scoped to one
organization would read the whole table."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

from business.models import OrgModel


def _org_models():
    return [m for m in apps.get_app_config("business").get_models() if issubclass(m, OrgModel)]


@pytest.mark.parametrize("model", _org_models(), ids=lambda m: m.__name__)
def test_each_org_model_has_an_index_starting_with_the_organization(model):
    meta = model._meta
    leading = [
        list(c.fields)[0]
        for c in [*meta.constraints, *meta.indexes]
        if getattr(c, "fields", None) and getattr(c, "condition", None) is None
    ]
    assert "organization" in leading, f"{model.__name__}: nothing serves organization = …"


@pytest.mark.django_db
def test_the_database_has_them_and_not_the_single_column_ones():
    with connection.cursor() as cursor:
        for model in _org_models():
            table = model._meta.db_table
            found = connection.introspection.get_constraints(cursor, table)
            columns = [c["columns"] for c in found.values() if c["index"] or c["unique"]]
            assert ["organization_id"] not in columns, table
            assert ["created_at"] not in columns, table
            assert any(c[:1] == ["organization_id"] and len(c) > 1 for c in columns), table
