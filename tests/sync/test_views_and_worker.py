"""Pages (org-scoped, permission-checked), commands, and automatic sync on a real Huey consumer."""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from business.models import Product
from jobs.models import DataJob
from sync.models import SyncConnection, SyncRun
from tests.sync.conftest import in_stock_rows, reels_write


@pytest.mark.django_db
def test_it_shows_the_dashboard_and_available_rows_to_admins_only(
    reels, owner_client, member_client, other_client
):
    page = owner_client.get("/sync/")
    assert page.status_code == 200 and "Reels" in page.content.decode()
    detail = owner_client.get(f"/sync/{reels.pk}/")
    assert detail.status_code == 200
    assert detail.content.decode().count('name="key"') == 10
    assert member_client.get("/sync/").status_code == 403
    assert other_client.get(f"/sync/{reels.pk}/").status_code == 404
    assert other_client.post(f"/sync/{reels.pk}/sync/", {"direction": "both"}).status_code == 404
    assert "Reels" not in other_client.get("/sync/").content.decode()


@pytest.mark.django_db
def test_it_searches_and_pages_the_available_rows(reels, owner_client):
    response = owner_client.get(
        f"/sync/{reels.pk}/", {"q": "R024003"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="available"
    )
    html = response.content.decode()
    assert 'value="R024003"' in html and 'value="R024004"' not in html


@pytest.mark.django_db
def test_it_registers_an_uploaded_sqlite_file(org, owner_client, sync_root, tmp_path, warehouses):
    path = reels_write(tmp_path / "shop.sqlite3", in_stock_rows(3))
    response = owner_client.post(
        "/sync/new/",
        {
            "name": "Uploaded",
            "upload": SimpleUploadedFile("shop.sqlite3", path.read_bytes()),
            "table": "inventory",
            "key_column": "reel_number",
            "filter_column": "status",
            "filter_value": "In-stock",
        },
    )
    conn = SyncConnection.objects.get(organization=org, name="Uploaded")
    assert response.status_code == 302
    assert conn.path.startswith(f"uploads/{org.pk}/")
    assert (sync_root / conn.path).is_file()


@pytest.mark.django_db
def test_it_refuses_an_upload_that_is_not_sqlite(org, owner_client, sync_root):
    response = owner_client.post(
        "/sync/new/",
        {
            "name": "Bad",
            "upload": SimpleUploadedFile("shop.sqlite3", b"reel_number\nR1\n"),
            "table": "inventory",
            "key_column": "reel_number",
        },
    )
    assert "is not an SQLite database" in response.content.decode()
    assert not SyncConnection.objects.exists()
    assert not any((sync_root / "uploads" / str(org.pk)).iterdir())


@pytest.mark.django_db
def test_it_validates_the_interval(reels, owner_client):
    owner_client.post(
        f"/sync/{reels.pk}/settings/", {"auto_sync": "on", "interval_minutes": "10081"}
    )
    reels.refresh_from_db()
    assert not reels.auto_sync
    owner_client.post(f"/sync/{reels.pk}/settings/", {"auto_sync": "on", "interval_minutes": "30"})
    reels.refresh_from_db()
    assert reels.auto_sync and reels.interval_minutes == 30 and reels.next_sync_at is not None


@pytest.mark.django_db
def test_it_creates_a_connection_and_runs_a_dry_run_from_the_command_line(
    org, owner, sync_root, warehouses, capsys
):
    reels_write(sync_root / "cli.sqlite3", in_stock_rows(5))
    call_command(
        "sync_connection",
        "create",
        "--org",
        "demo",
        "--name",
        "CLI",
        "--url",
        "sqlite:///cli.sqlite3",
        "--table",
        "inventory",
        "--key",
        "reel_number",
        "--filter",
        "status=In-stock",
        "--map",
        "grade=category",
        "--sold-status",
        "invoiced=Sold",
        "--sold-status",
        "delivered=Delivered",
    )
    out = capsys.readouterr().out
    assert "reel_number → sku" in out and "grade → category" in out
    call_command("sync_inventory", "--connection", "CLI", "--dry-run", "--json")
    result = json.loads(capsys.readouterr().out)
    assert result["dry_run"] is True and result["would"]["import"] == 5
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_it_exits_1_with_a_message_for_a_bad_connection(org, sync_root, capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "sync_connection",
            "create",
            "--org",
            "demo",
            "--name",
            "X",
            "--url",
            "mysql://root@10.1.2.3/inv",
            "--table",
            "t",
            "--key",
            "k",
        )
    assert exit_info.value.code == 1
    assert "host '10.1.2.3' is not allowed" in capsys.readouterr().err


@pytest.fixture
def worker_sync_root(monkeypatch, settings):
    # The consumer is another process: it finds the sync folder through the environment, so
    # this fixture comes before huey_consumer.
    root = settings.BASE_DIR / "var" / f"sync-test-{os.getpid()}"
    monkeypatch.setenv("FERRY_SYNC_ROOT", str(root))
    settings.FERRY_SYNC_ROOT = root
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_it_runs_due_syncs_as_jobs_on_the_worker(
    worker_sync_root, huey_consumer, org, owner, job_waiter
):
    from sync.tasks import auto_sync_task
    from tests.sync.conftest import connection_make as make

    root = worker_sync_root
    reels_write(root / "shop" / "inventory.sqlite3", in_stock_rows(6))
    from business.models import Warehouse

    for code in ("WH-MAIN", "WH-NORTH", "WH-SOUTH"):
        Warehouse.objects.create(organization=org, code=code, name=code)
    conn = make(org)
    SyncConnection.objects.filter(pk=conn.pk).update(
        auto_sync=True, interval_minutes=1, next_sync_at=timezone.now() - timedelta(minutes=1)
    )
    auto_sync_task()  # the periodic task's body, queued on the consumer like its minute tick
    deadline = timezone.now() + timedelta(seconds=60)
    while not SyncRun.objects.filter(connection=conn).exists() and timezone.now() < deadline:
        time.sleep(0.2)
    run = SyncRun.objects.get(connection=conn)
    job = job_waiter(DataJob.objects.get(pk=run.job_id))
    assert job.status == "completed", job.error_message
    assert job.total == 6 and job.processed == 6
    run.refresh_from_db()
    assert run.automatic and run.imported == 6
    conn.refresh_from_db()
    assert conn.running_job_id is None and conn.last_sync_at is not None
    assert conn.next_sync_at > timezone.now()
