"""One flat export, several record types: a denormalised sales export imported as customers,
products, orders and lines in one job, with one preview and one undo."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import re
import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from business.models import AuditEvent, Customer, Product, SalesOrder, SalesOrderLine
from jobs.errors import FerryError
from jobs.models import DataJob
from tests.factories import CustomerFactory
from tests.wizard.test_engine import media_in_tmp  # noqa: F401
from wizard.models import ImportChange
from wizard.multi import (
    MultiImportError,
    _running_save,
    import_multi_run,
    import_multi_start,
    multi_targets_suggest,
    targets_order,
)
from wizard.services import import_undo, import_undo_plan

HEADERS = [
    "Order Number",
    "Order Date",
    "Customer Code",
    "Customer Name",
    "City",
    "SKU",
    "Product Name",
    "List Price",
    "Quantity",
    "Unit Price",
]
ORDERS, CUSTOMERS, PRODUCTS = 500, 60, 80


def _export(path, *, lines: int = 2000) -> dict:
    """A realistic order-lines export: every line repeats its customer's and product's columns."""
    rng = random.Random(11)
    cities = ["Lyon", "Gent", "Porto", "Graz", "Turku", "Cork"]
    customers = [
        (f"C{i:04d}", f"Customer {i} Ltd", cities[i % len(cities)]) for i in range(CUSTOMERS)
    ]
    products = [
        (f"SKU-{i:05d}", f"Widget model {i}", Decimal(10 + i) + Decimal("0.50"))
        for i in range(PRODUCTS)
    ]
    per_order = [1] * ORDERS
    for _ in range(lines - ORDERS):
        per_order[rng.randrange(ORDERS)] += 1
    rows, used_customers, used_products = [], set(), set()
    start = dt.date(2026, 1, 5)
    for n, count in enumerate(per_order):
        customer = customers[n % CUSTOMERS]
        used_customers.add(customer[0])
        date = (start + dt.timedelta(days=n // 7)).isoformat()
        for sku, name, price in rng.sample(products, count) if count <= PRODUCTS else products:
            used_products.add(sku)
            qty = rng.randint(1, 12)
            rows.append(
                [f"SO-{n + 1:05d}", date, *customer, sku, name, f"{price}", qty, f"{price}"]
            )
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([HEADERS, *rows])
    return {
        "lines": len(rows),
        "customers": len(used_customers),
        "products": len(used_products),
    }


def _run(org, user, path, **kwargs):
    with open(path, "rb") as f:
        return import_multi_run(organization=org, user=user, file=f, filename=path.name, **kwargs)


@pytest.fixture
def export(tmp_path):
    path = tmp_path / "sales-export.csv"
    return path, _export(path)


def test_it_orders_targets_by_the_declarations_references():
    # Referenced types first; independent ones keep the order they were given in.
    assert targets_order(["sales-orders", "customers", "products"]) == [
        "customers",
        "products",
        "sales-orders",
    ]
    assert targets_order(["sales-orders", "products", "customers"])[-1] == "sales-orders"
    assert targets_order(["stock-items", "warehouses", "products"])[-1] == "stock-items"


def test_it_proposes_customers_products_and_orders_in_dependency_order(org, export):
    path, _ = export
    with open(path, encoding="utf-8") as f:
        rows = list(csv.reader(f))
    targets = multi_targets_suggest(headers=rows[0], samples=rows[1:50], organization=org)
    names = [t.resource for t in targets]
    assert names == ["customers", "products", "sales-orders"]
    by_name = {t.resource: t.mapping for t in targets}
    assert by_name["customers"]["Customer Code"] == "code"
    assert by_name["customers"]["Customer Name"] == "name"
    assert by_name["products"]["SKU"] == "sku"
    assert by_name["products"]["Product Name"] == "name"
    orders = by_name["sales-orders"]
    assert orders["Order Number"] == "number" and orders["Customer Code"] == "customer"
    assert orders["SKU"] == "product" and orders["Quantity"] == "quantity"


def test_it_previews_writes_matches_and_undoes_the_whole_file(
    org, owner, other_org, export, django_assert_max_num_queries
):
    path, expected = export
    kept = CustomerFactory(organization=org, code="C0000", name="Customer 0 Ltd", city="Lyon")
    theirs = CustomerFactory(organization=other_org, code="C0001", name="Not yours")

    # One preview: a dry run of all passes, nothing written, counts per target.
    preview = _run(org, owner, path, dry_run=True)
    assert preview.status == "completed", preview.error_message
    s = preview.summary
    assert s["order"] == ["customers", "products", "sales-orders"]
    assert preview.target_label == "Customers, products, sales orders"
    assert s["targets"]["customers"]["would_create"] == expected["customers"] - 1
    assert s["targets"]["products"]["would_create"] == expected["products"]
    assert s["targets"]["sales-orders"]["would_create"] == ORDERS
    assert s["targets"]["sales-orders"]["failed"] == 0, s["targets"]["sales-orders"]["errors"]
    assert s["total"] == expected["lines"]
    assert Customer.objects.filter(organization=org).count() == 1
    assert not Product.objects.exists() and not SalesOrder.objects.exists()
    assert not ImportChange.objects.filter(job=preview).exists()
    assert not preview.log_entries.filter(level="error").exists()

    # The real run: each record created once, lines attached.
    job = _run(org, owner, path)
    assert job.status == "completed", job.error_message
    t = job.summary["targets"]
    assert t["customers"]["created"] == expected["customers"] - 1
    assert t["customers"]["skipped"] == 1  # the pre-existing customer, on_duplicate=skip
    assert t["products"]["created"] == expected["products"]
    assert t["sales-orders"]["created"] == ORDERS and t["sales-orders"]["failed"] == 0
    assert Customer.objects.filter(organization=org).count() == expected["customers"]
    assert Product.objects.filter(organization=org).count() == expected["products"]
    assert SalesOrder.objects.filter(organization=org).count() == ORDERS
    assert SalesOrderLine.objects.filter(order__organization=org).count() == expected["lines"]
    first = SalesOrder.objects.get(organization=org, number="SO-00001")
    assert first.customer.code == "C0000" and first.customer_id == kept.pk
    line = first.lines.select_related("product").first()
    assert line.product.name.startswith("Widget model") and line.unit_price > 0

    # A second run matches everything.
    assert AuditEvent.objects.filter(event_type="import", object_id=str(job.pk)).exists()
    again = _run(org, owner, path)
    totals = again.summary["targets"]
    assert [totals[n]["created"] for n in again.summary["order"]] == [0, 0, 0]
    assert again.summary["created"] == 0

    # One undo reverses all passes of the first run, and nothing else.
    plan = import_undo_plan(job=job)
    models = {row["model"] for row in plan.as_dict()["by_model"]}
    assert len(models) >= 3
    import_undo(job=job, user=owner)
    assert list(Customer.objects.filter(organization=org)) == [kept]
    assert not Product.objects.filter(organization=org).exists()
    assert not SalesOrder.objects.filter(organization=org).exists()
    assert not SalesOrderLine.objects.exists()
    theirs.refresh_from_db()
    assert theirs.name == "Not yours"


def test_it_imports_chosen_targets_from_the_command_line(org, owner, tmp_path, capsys):
    path = tmp_path / "small.csv"
    expected = _export(path, lines=520)
    call_command(
        "import_data",
        "--targets",
        "auto",
        "--org",
        org.slug,
        "--user",
        owner.username,
        "--dry-run",
        "--json",
        str(path),
    )
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["order"] == ["customers", "products", "sales-orders"]
    assert out["summary"]["targets"]["sales-orders"]["would_create"] == ORDERS
    assert not SalesOrder.objects.exists()
    call_command(
        "import_data",
        "--targets",
        "products,customers,sales-orders",
        "--org",
        org.slug,
        "--user",
        owner.username,
        str(path),
    )
    text = capsys.readouterr().out
    assert "Customers" in text and "Sales orders" in text
    assert SalesOrderLine.objects.filter(order__organization=org).count() == expected["lines"]


def test_it_refuses_a_file_whose_columns_name_no_record_type(org, owner, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("Colour,Mood\nblue,calm\n", encoding="utf-8")
    with pytest.raises(MultiImportError, match="No record type was recognised"):
        _run(org, owner, path)
    assert not DataJob.objects.filter(organization=org).exists()


def test_it_refuses_a_user_who_may_not_import_every_target(org, viewer, tmp_path):
    path = tmp_path / "small.csv"
    _export(path, lines=520)
    with pytest.raises(FerryError, match="may not import"):
        _run(org, viewer, path)
    assert not SalesOrder.objects.exists() and not Customer.objects.exists()
    assert not DataJob.objects.filter(organization=org).exists()


def test_it_applies_on_duplicate_to_every_pass(org, owner, tmp_path):
    path = tmp_path / "small.csv"
    _export(path, lines=520)
    _run(org, owner, path)
    # The export again, with one product's list price and one customer's city changed.
    with open(path, encoding="utf-8") as f:
        rows = list(csv.reader(f))
    for row in rows[1:]:
        if row[5] == rows[1][5]:
            row[7] = "999.00"
        if row[2] == "C0003":
            row[4] = "Vienna"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    skipped = _run(org, owner, path, on_duplicate="skip")
    t = skipped.summary["targets"]
    assert [t[n]["updated"] for n in skipped.summary["order"]] == [0, 0, 0]
    updated = _run(org, owner, path, on_duplicate="update")
    t = updated.summary["targets"]
    assert (t["customers"]["updated"], t["products"]["updated"]) == (1, 1)
    assert t["sales-orders"]["updated"] == 0 and t["sales-orders"]["failed"] == 0
    assert Customer.objects.get(organization=org, code="C0003").city == "Vienna"
    assert Product.objects.get(organization=org, sku=rows[1][5]).list_price == Decimal("999.00")
    # Undoing the update run restores what it changed.
    import_undo(job=updated, user=owner)
    assert Customer.objects.get(organization=org, code="C0003").city != "Vienna"


# --- in the worker: queued by the pages, progress per target ---------------------------------


def _start(org, user, path, **kwargs):
    with open(path, "rb") as f:
        return import_multi_start(organization=org, user=user, file=f, filename=path.name, **kwargs)


def _states(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-target="([\w-]+)" data-state="(\w+)"', page))


def test_it_shows_each_target_waiting_running_or_done_while_the_job_is_on_its_way(
    org, owner, owner_client, tmp_path
):
    path = tmp_path / "small.csv"
    _export(path, lines=520)
    job = _start(org, owner, path)  # no worker in this test: it stays queued
    assert (job.status, job.on_stall) == ("queued", DataJob.OnStall.FAIL)
    assert _start(org, owner, path, dry_run=True).on_stall == DataJob.OnStall.RERUN
    url = reverse("wizard:multi_review", args=[job.pk])
    page = owner_client.get(url).content.decode()
    assert 'id="multi-progress"' in page and "every 1s" in page and 'name="action"' not in page
    assert _states(page) == dict.fromkeys(["customers", "products", "sales-orders"], "waiting")
    # As the worker records it between two passes.
    job.status = DataJob.Status.RUNNING
    job.save(update_fields=["status"])
    _running_save(
        job=job,
        order=["customers", "products", "sales-orders"],
        running="products",
        done={"customers": {"created": 7, "updated": 0, "failed": 0}},
    )
    DataJob.objects.filter(pk=job.pk).update(processed=130, total=520)
    fragment = owner_client.get(url, headers={"HX-Request": "true", "HX-Target": "multi-progress"})
    text = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in text
    assert _states(text) == {"customers": "done", "products": "running", "sales-orders": "waiting"}
    assert "7 created" in text and "130 of about 520 rows" in text
    # Nothing is started from a page whose run is on its way.
    data = {"targets": ["customers"], "on_duplicate": "skip", "action": "import"}
    assert owner_client.post(url, data).status_code == 404


def test_it_runs_in_the_worker_target_after_target(
    org, owner, owner_client, tmp_path, huey_consumer
):
    path = tmp_path / "sales-export.csv"
    expected = _export(path)
    job = _start(org, owner, path)
    url = reverse("wizard:multi_review", args=[job.pk])
    order = ["customers", "products", "sales-orders"]
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        poll = owner_client.get(url, headers={"HX-Request": "true", "HX-Target": "multi-progress"})
        if poll.status_code == 286:
            break
        seen.append(_states(poll.content.decode()))
        time.sleep(0.05)
    assert poll.status_code == 286 and poll["HX-Redirect"] == url
    # Whatever moments the polls caught: one target at a time, in dependency order.
    for states in seen:
        assert list(states) == order
        assert list(states.values()).count("running") <= 1
        ranks = [["done", "running", "waiting"].index(states[n]) for n in order]
        assert ranks == sorted(ranks), states
    job.refresh_from_db()
    assert job.status == "completed", job.error_message
    assert "running" not in job.summary
    t = job.summary["targets"]
    assert [t[n]["created"] for n in order] == [expected["customers"], expected["products"], ORDERS]
    assert (job.total, job.processed) == (expected["lines"], expected["lines"])
    assert SalesOrderLine.objects.filter(order__organization=org).count() == expected["lines"]
    page = owner_client.get(url).content.decode()
    assert f'data-count="created">{ORDERS}<' in page and 'id="multi-progress"' not in page
