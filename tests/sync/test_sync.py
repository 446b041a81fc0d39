"""The sync against real SQLite files: import through the engine, write-back, dry run, conflicts."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from business.models import Customer, Product, SalesOrder, SalesOrderLine, StockItem
from jobs.models import DataJob
from sync.models import SyncLink, SyncRun
from sync.services import sync_run_now
from tests.sync.conftest import external_rows, external_update
from wizard.services import import_undo

pytestmark = pytest.mark.django_db


def _sell(org, product, status="invoiced", number="SO-1"):
    customer, _ = Customer.objects.get_or_create(
        organization=org, code="C1", defaults={"name": "C"}
    )
    order = SalesOrder.objects.create(
        organization=org, number=number, customer=customer, order_date="2026-11-01", status=status
    )
    SalesOrderLine.objects.create(
        organization=org, order=order, line_number=1, product=product, quantity=1, unit_price=10
    )
    return order


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_it_imports_available_reels_through_the_engine(org, owner, reels, reels_file):
    job = sync_run_now(connection=reels, user=owner)
    assert job.status == DataJob.Status.COMPLETED, job.error_message
    assert job.job_type == DataJob.Type.IMPORT
    run = SyncRun.objects.get(job=job)
    assert run.imported == 10 and run.errors == 0
    ext = external_rows(reels_file)
    key, row = next(iter(ext.items()))
    product = Product.objects.get(organization=org, sku=key)
    assert product.name == f"{row['grade']} {row['gsm']} {row['width']}"
    assert product.category.name == row["grade"]
    assert product.barcode == row["qr_code"]
    # Unmapped columns are kept on the product.
    assert product.attributes["profile_name"] == row["profile_name"]
    assert product.attributes["logs"] == row["logs"]
    stock = StockItem.objects.get(organization=org, product=product)
    assert stock.warehouse.code == row["location"]
    assert stock.quantity == Decimal(str(row["length"]))
    assert SyncLink.objects.filter(connection=reels, state="linked").count() == 10
    # Same engine, same undo: a plain one, the sync's own links going with their products.
    result = import_undo(job=job, user=owner)
    assert result.skipped_conflicts == 0, result.conflicts
    assert result.deleted >= 10
    assert not Product.objects.filter(organization=org, sku=key).exists()
    assert not SyncLink.objects.filter(connection=reels).exists()


def test_it_undoes_a_sync_import_without_force_and_imports_it_again(org, owner, reels):
    from wizard.services import import_undo_plan

    job = sync_run_now(connection=reels, user=owner)
    plan = import_undo_plan(job=job).as_dict()
    assert plan["kept"] == 0 and plan["conflicts"] == []
    links = next(r for r in plan["by_model"] if r["model"] == "sync.synclink")
    assert links["delete"] == 10
    import_undo(job=job, user=owner, expected=plan["digest"])
    assert not Product.objects.filter(organization=org).exists()
    assert not StockItem.objects.filter(organization=org).exists()
    # The rows are new again for the next sync, which brings them back and links them.
    again = sync_run_now(connection=reels, user=owner)
    assert again.summary["imported"] == 10
    assert SyncLink.objects.filter(connection=reels, product__isnull=False).count() == 10


def test_it_keeps_the_link_of_a_product_the_undo_keeps(org, owner, reels):
    job = sync_run_now(connection=reels, user=owner)
    product = Product.objects.filter(organization=org).order_by("sku").first()
    _sell(org, product)  # a sales-order line this import did not create uses it
    result = import_undo(job=job, user=owner)
    # Kept: the product, its category and its stock (its own part); no link among them.
    assert result.skipped_conflicts == 3
    assert any(product.sku in message for message in result.conflicts)
    assert not any("link" in message.lower() for message in result.conflicts)
    assert list(Product.objects.filter(organization=org)) == [product]
    link = SyncLink.objects.get(connection=reels)
    assert link.product_id == product.pk


def test_it_changes_nothing_on_a_second_sync(org, owner, reels):
    sync_run_now(connection=reels, user=owner)
    job = sync_run_now(connection=reels, user=owner)
    assert job.summary["imported"] == 0 and job.summary["unchanged"] == 10


def test_it_updates_a_changed_row(org, owner, reels, reels_file):
    sync_run_now(connection=reels, user=owner)
    key = sorted(external_rows(reels_file))[0]
    external_update(reels_file, key, grade="Changed grade")
    job = sync_run_now(connection=reels, user=owner)
    assert job.summary["updated"] == 1
    assert Product.objects.get(organization=org, sku=key).category.name == "Changed grade"


def test_it_dry_run_changes_nothing_on_either_side(org, owner, reels, reels_file):
    before = _digest(reels_file)
    job = sync_run_now(connection=reels, user=owner, dry_run=True)
    assert job.status == DataJob.Status.COMPLETED, job.error_message
    assert job.summary["would"]["import"] == 10
    assert job.summary["imported"] == 0
    assert not Product.objects.filter(organization=org).exists()
    assert not SyncLink.objects.exists()
    assert _digest(reels_file) == before


def test_it_writes_back_sold_and_delivered_items(org, owner, reels, reels_file):
    sync_run_now(connection=reels, user=owner)
    keys = sorted(external_rows(reels_file))
    _sell(org, Product.objects.get(organization=org, sku=keys[0]))
    delivered = Product.objects.get(organization=org, sku=keys[1])
    _sell(org, delivered, number="SO-2")
    StockItem.objects.filter(product=delivered).update(status="delivered")
    draft = _sell(
        org, Product.objects.get(organization=org, sku=keys[2]), status="draft", number="SO-3"
    )
    assert draft
    dry = sync_run_now(connection=reels, user=owner, direction="export", dry_run=True)
    assert sorted(dry.summary["details"]["write_back"]) == keys[:2]
    assert external_rows(reels_file)[keys[0]]["status"] == "In-stock"
    job = sync_run_now(connection=reels, user=owner, direction="export")
    assert job.summary["written_back"] == 2
    ext = external_rows(reels_file)
    assert ext[keys[0]]["status"] == "Sold"
    assert ext[keys[1]]["status"] == "Delivered"
    assert ext[keys[2]]["status"] == "In-stock"
    assert ext[keys[0]]["username"] == "ferry"
    assert ext[keys[0]]["logs"].splitlines()[-1].endswith("Sold by Ferry (order SO-1 is invoiced)")
    assert len(ext[keys[0]]["logs"].splitlines()) == 2
    assert SyncLink.objects.get(connection=reels, external_key=keys[0]).state == "sold"
    # Sold items are never imported again as available, even if the shop resets them.
    external_update(reels_file, keys[0], status="In-stock")
    again = sync_run_now(connection=reels, user=owner, direction="import")
    assert keys[0] in again.summary["details"]["skipped"]


def test_it_skips_a_write_back_when_the_row_changed_since_read(org, owner, reels, reels_file):
    sync_run_now(connection=reels, user=owner)
    key = sorted(external_rows(reels_file))[0]
    _sell(org, Product.objects.get(organization=org, sku=key))
    external_update(reels_file, key, comments="re-measured by the shop")
    before = _digest(reels_file)
    job = sync_run_now(connection=reels, user=owner, direction="export")
    assert job.summary["conflicts"] == 1 and job.summary["written_back"] == 0
    assert _digest(reels_file) == before
    assert "changed since Ferry last read it" in job.log_entries.get(value=key).message


def test_it_reports_rows_that_left_the_available_state(org, owner, reels, reels_file):
    sync_run_now(connection=reels, user=owner)
    keys = sorted(external_rows(reels_file))
    external_update(reels_file, keys[0], status="Scrapped")
    job = sync_run_now(connection=reels, user=owner)
    assert job.summary["gone"] == 1
    assert "status is now 'Scrapped'" in job.log_entries.get(value=keys[0]).message
    assert SyncLink.objects.get(external_key=keys[0]).state == "gone"


def test_it_imports_only_the_chosen_keys(org, owner, reels, reels_file):
    keys = sorted(external_rows(reels_file))[:3]
    job = sync_run_now(connection=reels, user=owner, direction="import", keys=keys)
    assert job.summary["imported"] == 3
    assert set(Product.objects.filter(organization=org).values_list("sku", flat=True)) == set(keys)


def test_it_limits_the_rows_imported(org, owner, reels):
    job = sync_run_now(connection=reels, user=owner, limit=4)
    assert job.summary["imported"] == 4
