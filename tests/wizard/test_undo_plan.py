"""Undo never destroys what came later: the plan, and exactly the plan.

One service computes the plan (wizard.services.import_undo_plan); the undo page, the API and
``undo_import`` show its figures, and the undo does exactly that.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse

from business.models import (
    Product,
    ProductCategory,
    SalesOrder,
    SalesOrderLine,
)
from tests.factories import CustomerFactory, ProductFactory
from tests.wizard.test_engine import media_in_tmp, run_import  # noqa: F401
from wizard.models import ImportChange
from wizard.services import import_undo, import_undo_plan

ORDERS = [
    ["Order No", "Customer", "Order date", "SKU", "Qty", "Price"],
    ["SO-1", "C1", "2024-03-01", "P1", "2", "10.00"],
    ["", "", "", "P2", "1", "5.50"],
    ["SO-2", "C1", "2024-03-02", "P1", "1", "10"],
]


@pytest.fixture
def catalog(org):
    CustomerFactory(organization=org, code="C1")
    for sku in ("P1", "P2", "P3"):
        ProductFactory(organization=org, sku=sku)


def business_counts() -> dict[str, int]:
    return {
        m._meta.label: m._base_manager.count() for m in apps.get_app_config("business").get_models()
    }


def removed(before: dict[str, int]) -> dict[str, int]:
    after = business_counts()
    # Only what went away (the undo itself adds an audit event).
    return {label: before[label] - after[label] for label in before if before[label] > after[label]}


def plan_rows(plan) -> dict[str, tuple[int, int, int, int]]:
    return {r["model"]: (r["delete"], r["cascade"], r["unlink"], r["kept"]) for r in plan.rows()}


def _folder(path):
    path.mkdir()
    return path


def owner_api(org, user):
    from tests.api.conftest import make_token, token_client

    return token_client(make_token(user, org))


def cli(*args) -> tuple[int, str]:
    out = io.StringIO()
    code = 0
    try:
        call_command(*args, stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue()


# --- orders: a later import added a line to one of the orders ---------------------------------


@pytest.fixture
def orders_then_a_later_line(org, owner, tmp_path, catalog):
    first = run_import(org, owner, "sales-orders", tmp_path, ORDERS)
    assert (first.summary["orders_created"], first.summary["lines_created"]) == (2, 3)
    later = run_import(
        org,
        owner,
        "sales-order-lines",
        _folder(tmp_path / "later"),
        [["Order", "Line", "SKU", "Qty", "Price"], ["SO-1", "9", "P3", "7", "1.00"]],
    )
    assert later.summary["created"] == 1, later.summary
    return first, later


def test_it_keeps_an_order_a_later_import_added_a_line_to(orders_then_a_later_line, owner):
    first, later = orders_then_a_later_line
    plan = import_undo_plan(job=first)
    assert plan_rows(plan) == {
        "sales-orders": (1, 0, 0, 1),  # SO-2 goes, SO-1 stays
        "sales-order-lines": (1, 0, 0, 2),  # SO-2's line goes, SO-1's own two stay with it
    }
    messages = [c.message for c in plan.conflicts]
    assert (
        "Sales order 'SO-1' is used by 1 sales order line this import did not create; it was kept."
        in messages
    )
    assert sum("belongs to sales order 'SO-1', which is kept" in m for m in messages) == 2
    before = business_counts()
    result = import_undo(job=first, user=owner)
    assert removed(before) == {"business.SalesOrder": 1, "business.SalesOrderLine": 1}
    assert result.deleted == 2 and result.skipped_conflicts == plan.kept_count
    # The later line and its order are intact.
    assert SalesOrderLine.objects.filter(order__number="SO-1").count() == 3
    assert SalesOrderLine.objects.filter(order__number="SO-1", line_number=9).exists()
    assert not SalesOrder.objects.filter(number="SO-2").exists()
    # The later import can still be undone on its own.
    assert import_undo(job=later, user=owner).deleted == 1


def test_it_forces_the_order_and_says_the_later_line_goes_with_it(orders_then_a_later_line, owner):
    first, _ = orders_then_a_later_line
    forced = import_undo_plan(job=first, force=True)
    assert plan_rows(forced) == {
        "sales-orders": (2, 0, 0, 0),
        "sales-order-lines": (4, 1, 0, 0),  # its 3 lines + the later one, by cascade
    }
    before = business_counts()
    result = import_undo(job=first, user=owner, force=True, expected=forced.digest())
    assert removed(before) == {"business.SalesOrder": 2, "business.SalesOrderLine": 4}
    assert result.deleted == forced.deleted_count() == 6
    assert not ImportChange.objects.filter(job=first).exists()


# --- create-missing category, used by products of two later imports ---------------------------


@pytest.fixture
def category_then_later_products(org, owner, tmp_path):
    first = run_import(
        org,
        owner,
        "products",
        tmp_path,
        [["SKU", "Name", "Category"], ["A1", "First", "Tools"]],
        create_missing={"category": True},
    )
    assert first.summary["references_created"] == {"product-categories": 1}
    for n, sku in enumerate(("B1", "C1")):
        later = run_import(
            org,
            owner,
            "products",
            _folder(tmp_path / f"later{n}"),
            [["SKU", "Name", "Category"], [sku, "Later", "Tools"]],
        )
        assert later.summary["created"] == 1
    return first


def test_it_keeps_a_created_category_later_products_refer_to(category_then_later_products, owner):
    first = category_then_later_products
    plan = import_undo_plan(job=first)
    assert plan_rows(plan) == {"products": (1, 0, 0, 0), "product-categories": (0, 0, 0, 1)}
    assert [c.message for c in plan.conflicts] == [
        "Product category 'Tools' is used by 2 products this import did not create; it was kept."
    ]
    before = business_counts()
    result = import_undo(job=first, user=owner)
    assert removed(before) == {"business.Product": 1}
    assert result.conflicts == [c.message for c in plan.conflicts]
    tools = ProductCategory.objects.get(name="Tools")
    assert set(Product.objects.filter(category=tools).values_list("sku", flat=True)) == {
        "B1",
        "C1",
    }
    # The kept category stays undoable: a forced undo later takes it, clearing the references.
    forced = import_undo_plan(job=first, force=True)
    assert plan_rows(forced) == {"product-categories": (1, 0, 0, 0), "products": (0, 0, 2, 0)}
    import_undo(job=first, user=owner, force=True)
    assert not ProductCategory.objects.exists()
    assert list(Product.objects.values_list("category", flat=True)) == [None, None]


# --- the figures shown are the figures done ---------------------------------------------------


def test_it_deletes_exactly_what_the_page_announced(org, owner, owner_client, tmp_path):
    # Three contacts, the account created for them, and one contact updated: the old page
    # announced the contacts only, and the undo then deleted the account too.
    from tests.factories import ContactFactory

    ContactFactory(organization=org, email="old@x.com", first_name="Old")
    job = run_import(
        org,
        owner,
        "contacts",
        tmp_path,
        [
            ["Email", "First name", "Company"],
            ["a@x.com", "A", "Acme"],
            ["b@x.com", "B", "Acme"],
            ["c@x.com", "C", "Acme"],
            ["old@x.com", "New", ""],
        ],
        on_duplicate="update",
        create_missing={"account": True},
    )
    assert (job.summary["created"], job.summary["updated"]) == (3, 1), job.summary
    page = owner_client.get(reverse("wizard:undo", args=[job.pk])).content.decode()
    announced = int(re.search(r'data-plan="delete">(\d+)<', page).group(1))
    rows = dict(re.findall(r'<tr data-model="([\w-]+)">.*?data-count="delete">(\d+)<', page, re.S))
    plan = import_undo_plan(job=job)
    # The API and the command line show the same figures.
    api = owner_api(org, owner).get(f"/api/v1/data-jobs/{job.pk}/undo/")
    assert api.status_code == 200, api.content
    assert api.json()["delete"] == announced
    assert api.json()["by_model"] == plan.rows()
    assert api.json()["digest"] == plan.digest()
    code, out = cli("undo_import", str(job.pk), "--plan", "--json")
    assert code == 0 and json.loads(out)["deleted"] == announced
    assert json.loads(out)["by_model"] == plan.rows()
    assert announced == plan.deleted_count() == 4
    assert int(re.search(r'data-plan="restore">(\d+)<', page).group(1)) == 1
    digest = re.search(r'name="plan" value="(\w+)"', page).group(1)
    before = business_counts()
    response = owner_client.post(reverse("wizard:undo", args=[job.pk]), {"plan": digest})
    assert response.status_code == 302
    gone = removed(before)
    assert sum(gone.values()) == announced
    assert gone == {"business.Contact": 3, "business.Account": 1}
    labels = {"contacts": "business.Contact", "accounts": "business.Account"}
    assert {labels[m]: int(n) for m, n in rows.items() if int(n)} == gone
    from business.models import Contact

    assert Contact.objects.get(email="old@x.com").first_name == "Old"


def test_it_refuses_a_plan_that_changed_since_it_was_shown(org, owner, owner_client, tmp_path):
    job = run_import(org, owner, "contacts", tmp_path, [["Email"], ["a@x.com"], ["b@x.com"]])
    page = owner_client.get(reverse("wizard:undo", args=[job.pk])).content.decode()
    digest = re.search(r'name="plan" value="(\w+)"', page).group(1)
    # Someone edits one of the records meanwhile: the plan is not the one confirmed.
    from business.models import Contact

    contact = Contact.objects.get(email="a@x.com")
    contact.title = "Boss"
    contact.save()
    response = owner_client.post(reverse("wizard:undo", args=[job.pk]), {"plan": digest})
    assert response.status_code == 302 and response.url == reverse("wizard:undo", args=[job.pk])
    assert Contact.objects.count() == 2  # nothing was undone
    page = owner_client.get(reverse("wizard:undo", args=[job.pk])).content.decode()
    assert "records changed since this undo was planned" in page
    assert "Contact &#x27;a@x.com&#x27; was changed after the import" in page


def test_it_forces_from_the_page_only_with_the_box_ticked(
    category_then_later_products, owner_client
):
    first = category_then_later_products
    page = owner_client.get(reverse("wizard:undo", args=[first.pk])).content.decode()
    assert 'name="force"' in page
    assert "used by 2 products this import did not create" in page
    plain = re.search(r'name="plan" value="(\w+)"', page).group(1)
    forced = re.search(r'name="forced_plan" value="(\w+)"', page).group(1)
    owner_client.post(
        reverse("wizard:undo", args=[first.pk]), {"plan": plain, "forced_plan": forced}
    )
    assert ProductCategory.objects.exists()
    page = owner_client.get(reverse("wizard:undo", args=[first.pk])).content.decode()
    plain = re.search(r'name="plan" value="(\w+)"', page).group(1)
    forced = re.search(r'name="forced_plan" value="(\w+)"', page).group(1)
    owner_client.post(
        reverse("wizard:undo", args=[first.pk]),
        {"plan": plain, "forced_plan": forced, "force": "on"},
    )
    assert not ProductCategory.objects.exists()
    assert Product.objects.count() == 2


def test_it_forces_on_the_command_line_and_the_api(category_then_later_products, owner):
    first = category_then_later_products
    code, out = cli("undo_import", str(first.pk), "--plan")
    assert code == 2 and "Product categories: 0 deleted, 1 left alone" in out
    code, out = cli("undo_import", str(first.pk), "--plan", "--force")
    assert code == 0 and "Products: 1 deleted, 2 references cleared" in out
    assert ProductCategory.objects.exists()  # --plan changes nothing
    api = owner_api(first.organization, owner)
    plain = api.get(f"/api/v1/data-jobs/{first.pk}/undo/").json()
    assert (plain["delete"], plain["kept"], plain["force"]) == (1, 1, False)
    answer = api.get(f"/api/v1/data-jobs/{first.pk}/undo/?force=true").json()
    assert (answer["delete"], answer["kept"], answer["force"]) == (2, 0, True)
    # A stale digest is refused (409) and nothing is undone.
    stale = api.post(
        f"/api/v1/data-jobs/{first.pk}/undo/",
        {"force": True, "plan": plain["digest"]},
        format="json",
    )
    assert stale.status_code == 409 and ProductCategory.objects.exists()
    done = api.post(
        f"/api/v1/data-jobs/{first.pk}/undo/",
        {"force": True, "plan": answer["digest"]},
        format="json",
    )
    assert done.status_code == 200, done.content
    assert done.json()["deleted"] == 2
    assert done.json()["by_model"] == answer["by_model"]
    assert not ProductCategory.objects.exists()


def test_it_is_a_404_for_another_organization(category_then_later_products, other_org, other_user):
    api = owner_api(other_org, other_user)
    first = category_then_later_products
    assert api.get(f"/api/v1/data-jobs/{first.pk}/undo/").status_code == 404
    assert api.post(f"/api/v1/data-jobs/{first.pk}/undo/", {}, format="json").status_code == 404
    assert ProductCategory.objects.exists()
