"""Bad input and faults: each a clear message, a log entry, nothing half-written on either side."""

from __future__ import annotations

import hashlib
import os
import sqlite3

import pytest

from business.models import Product
from jobs.models import DataJob
from sync import external
from sync.errors import SyncNotAllowed, SyncSourceError
from sync.models import SyncConnection, SyncLink, SyncRun
from sync.services import sync_run_now
from tests.sync.conftest import (
    connection_make,
    external_rows,
    external_update,
    in_stock_rows,
    reels_write,
)

pytestmark = pytest.mark.django_db


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_it_refuses_a_missing_file(org, sync_root):
    with pytest.raises(SyncSourceError, match="does not exist in the sync folder"):
        connection_make(org, path="shop/nothing.sqlite3")
    assert not SyncConnection.objects.exists()


def test_it_refuses_a_file_that_is_not_sqlite(org, sync_root):
    (sync_root / "notes.sqlite3").write_text("reel_number,width\nR1,1000\n")
    with pytest.raises(SyncSourceError, match="is not an SQLite database"):
        connection_make(org, path="notes.sqlite3")


def test_it_refuses_paths_out_of_the_sync_folder(org, sync_root, tmp_path):
    outside = reels_write(tmp_path / "outside.sqlite3", in_stock_rows(2))
    with pytest.raises(SyncNotAllowed, match="goes up with '..'"):
        connection_make(org, path="../outside.sqlite3")
    with pytest.raises(SyncNotAllowed, match="outside the sync folder"):
        connection_make(org, path=str(outside))
    os.symlink(outside, sync_root / "link.sqlite3")
    with pytest.raises(SyncNotAllowed, match="outside the sync folder"):
        connection_make(org, path="link.sqlite3")


def test_it_refuses_another_organizations_upload(org, other_org, sync_root):
    reels_write(sync_root / "uploads" / str(other_org.pk) / "theirs.sqlite3", in_stock_rows(2))
    with pytest.raises(SyncNotAllowed, match="another organization"):
        connection_make(org, path=f"uploads/{other_org.pk}/theirs.sqlite3")


def test_it_refuses_a_missing_table_or_key_column(org, reels_file, warehouses):
    with pytest.raises(SyncSourceError, match="has no table 'reels'. Tables: .*inventory"):
        connection_make(org, table="reels")
    with pytest.raises(SyncSourceError, match="has no key column 'reel_no'"):
        connection_make(org, key_column="reel_no")


def test_it_refuses_a_url_outside_the_allowed_hosts(org, sync_root):
    with pytest.raises(SyncNotAllowed, match="host 'db.example.com' is not allowed"):
        connection_make(org, path="", url="postgresql://u:p@db.example.com/inv")
    with pytest.raises(SyncNotAllowed, match="parameter 'host' is not allowed"):
        connection_make(org, path="", url="postgresql://u@127.0.0.1/inv?host=/tmp")
    with pytest.raises(SyncNotAllowed, match="not supported by URL"):
        connection_make(org, path="", url="sqlite:////etc/passwd")


def test_it_reports_duplicate_external_keys_and_imports_none_of_them(
    org, owner, sync_root, warehouses
):
    rows = in_stock_rows(4)
    rows.append(rows[0][:5] + ("Other grade",) + rows[0][6:])
    path = reels_write(sync_root / "shop" / "inventory.sqlite3", rows)
    conn = connection_make(org)
    job = sync_run_now(connection=conn, user=owner)
    dup = rows[0][0]
    assert job.summary["errors"] == 1 and job.summary["imported"] == 3
    assert "appears 2 times in the external table" in job.log_entries.get(value=dup).message
    assert not Product.objects.filter(sku=dup).exists()
    assert path.exists()


def test_it_logs_rows_that_fail_validation_and_writes_the_rest(org, owner, reels_file, warehouses):
    bad = sorted(external_rows(reels_file))[0]
    external_update(reels_file, bad, width="wide")
    conn = connection_make(org, mapping={"reel_number": "sku", "width": "list_price"})
    job = sync_run_now(connection=conn, user=owner)
    assert job.summary["errors"] == 1 and job.summary["imported"] == 9
    entry = job.log_entries.get(level="error", column="width")
    assert "wide" in entry.value
    assert not Product.objects.filter(sku=bad).exists()
    assert not SyncLink.objects.filter(external_key=bad).exists()


def test_it_reports_a_locked_file_and_writes_nothing(org, owner, reels, reels_file, monkeypatch):
    monkeypatch.setattr(external, "BUSY_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(external.time, "sleep", lambda s: None)
    holder = sqlite3.connect(reels_file, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        job = sync_run_now(connection=reels, user=owner)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert job.status == DataJob.Status.FAILED
    assert "stayed locked by another program" in job.error_message
    assert not Product.objects.exists()
    run = SyncRun.objects.get(job=job)
    assert run.status == "failed" and run.errors == 1
    assert job.log_entries.filter(level="error", message__contains="locked").exists()


def test_it_reports_a_file_removed_after_registration(org, owner, reels, reels_file):
    reels_file.unlink()
    job = sync_run_now(connection=reels, user=owner)
    assert job.status == DataJob.Status.FAILED
    assert "does not exist in the sync folder" in job.error_message


def test_it_keeps_what_it_read_when_the_shop_changes_a_row_mid_sync(
    org, owner, reels, reels_file, monkeypatch
):
    from sync.services import importing as services

    key = sorted(external_rows(reels_file))[0]
    original = services._engine_run

    def engine_then_shop_edits(**kwargs):
        run = original(**kwargs)
        external_update(reels_file, key, comments="edited while Ferry imported")
        return run

    monkeypatch.setattr(services, "_engine_run", engine_then_shop_edits)
    job = sync_run_now(connection=reels, user=owner)
    assert job.summary["conflicts"] == 1
    assert "during this sync" in job.log_entries.get(value=key).message
    monkeypatch.setattr(services, "_engine_run", original)
    again = sync_run_now(connection=reels, user=owner)
    assert again.summary["updated"] == 1  # the next sync reads the new values


def test_it_never_runs_two_syncs_of_one_connection_at_once(org, owner, reels, reels_file):
    holder = DataJob.objects.create(
        organization=org, job_type="import", target="products", status="running"
    )
    SyncConnection.objects.filter(pk=reels.pk).update(running_job=holder)
    reels.refresh_from_db()
    job = sync_run_now(connection=reels, user=owner)
    assert job.status == DataJob.Status.FAILED
    assert "Another sync of 'Reels' is running" in job.error_message
    assert not Product.objects.exists()
    # Once the holder has ended, the claim is released and the next sync runs.
    DataJob.objects.filter(pk=holder.pk).update(status="failed")
    assert sync_run_now(connection=reels, user=owner).status == DataJob.Status.COMPLETED
