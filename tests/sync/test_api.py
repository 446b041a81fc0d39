"""The sync's REST API: connections, test, available rows, sync now (202 + job), runs —
scoped to the organization (another one's objects are a 404) and needing can_manage_sync."""

from __future__ import annotations

import pytest
from django.db import transaction

from jobs.models import DataJob
from sync.models import SyncConnection, SyncRun
from sync.services import sync_run_now
from tests.api.conftest import make_token, token_client

pytestmark = pytest.mark.django_db
BASE = "/api/v1/sync-connections/"


@pytest.fixture
def api(org, owner):
    return token_client(make_token(owner, org))


def test_it_lists_and_shows_connections_without_a_password(api, reels):
    listed = api.get(BASE)
    assert listed.status_code == 200
    (item,) = listed.json()["results"]
    assert item["name"] == "Reels" and item["key_column"] == "reel_number"
    assert item["source"] == "shop/inventory.sqlite3" and "path" not in item
    detail = api.get(f"{BASE}{reels.pk}/").json()
    assert detail["mapping"]["grade"] == "category"
    assert detail["stock"] == {"quantity": "length", "warehouse": "location"}


def test_it_creates_a_connection_and_refuses_a_bad_one(api, org, reels_file, warehouses):
    body = {
        "name": "Shop",
        "path": "shop/inventory.sqlite3",
        "table": "inventory",
        "key_column": "reel_number",
        "mapping": {"grade": "category"},
        "sold_statuses": [["invoiced", "Sold"]],
    }
    created = api.post(BASE, body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["mapping"]["grade"] == "category"
    assert SyncConnection.objects.filter(organization=org, name="Shop").exists()
    bad = api.post(BASE, {**body, "name": "Out", "path": "../../etc/passwd"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]
    long = api.post(BASE, {**body, "name": "L", "path": "0" * 500}, format="json")
    assert long.status_code == 400 and "cannot be opened" in long.json()["error"]
    missing = api.post(BASE, {**body, "name": "T", "table": "nope"}, format="json")
    assert missing.status_code == 400 and "nope" in missing.json()["error"]


def test_it_updates_settings_and_mapping_with_clear_errors(api, reels):
    url = f"{BASE}{reels.pk}/"
    ok = api.patch(
        url,
        {
            "auto_sync": True,
            "interval_minutes": 60,
            "transforms": {"length": {"multiply": "0.001"}},
            "writeback": {"status": "status", "last_date": "", "username": "", "logs": "logs"},
        },
        format="json",
    )
    assert ok.status_code == 200, ok.json()
    reels.refresh_from_db()
    assert reels.auto_sync and reels.interval_minutes == 60
    assert reels.transforms == {"length": {"multiply": "0.001"}}
    twice = api.patch(url, {"mapping": {**reels.mapping, "comments": "category"}}, format="json")
    assert twice.status_code == 400
    assert "both mapped to 'category'" in twice.json()["error"]
    unknown = api.patch(url, {"mapping": {**reels.mapping, "width": "nope"}}, format="json")
    assert unknown.status_code == 400 and "not a product field" in unknown.json()["error"]
    factor = api.patch(url, {"transforms": {"width": {"multiply": "x"}}}, format="json")
    assert factor.status_code == 400 and "needs a number" in factor.json()["error"]
    interval = api.patch(url, {"interval_minutes": 0}, format="json")
    assert interval.status_code == 400
    reels.refresh_from_db()
    assert "comments" not in reels.mapping and reels.transforms == {"length": {"multiply": "0.001"}}


def test_it_tests_the_connection_and_pages_the_available_rows(api, reels):
    tested = api.post(f"{BASE}{reels.pk}/test/")
    assert tested.status_code == 200
    assert tested.json()["available"] == 10 and "reel_number" in tested.json()["columns"]
    page = api.get(f"{BASE}{reels.pk}/available/").json()
    assert page["count"] == 10 and page["pages"] == 1
    assert {r["state"] for r in page["results"]} == {"new"}
    key = page["results"][0]["key"]
    found = api.get(f"{BASE}{reels.pk}/available/", {"q": key}).json()
    assert [r["key"] for r in found["results"]] == [key]
    assert found["results"][0]["values"]["reel_number"] == key


def test_it_starts_a_sync_as_a_job_and_shows_its_runs(api, org, owner, reels):
    with transaction.atomic():  # the task is queued on commit; the test runs it below
        started = api.post(
            f"{BASE}{reels.pk}/sync/", {"dry_run": True, "direction": "import"}, format="json"
        )
    assert started.status_code == 202, started.json()
    job = DataJob.objects.get(pk=started.json()["job_id"])
    assert job.params["dry_run"] is True and job.params["direction"] == "import"
    bad = api.post(f"{BASE}{reels.pk}/sync/", {"direction": "sideways"}, format="json")
    assert bad.status_code == 400
    done = sync_run_now(connection=reels, user=owner, keys=["R024001"])
    runs = api.get("/api/v1/sync-runs/", {"connection": reels.pk}).json()
    assert runs["count"] >= 1
    run = SyncRun.objects.get(job=done)
    detail = api.get(f"/api/v1/sync-runs/{run.pk}/").json()
    assert detail["imported"] == 1 and detail["connection_name"] == "Reels"


def test_it_refuses_a_sync_while_one_runs(api, reels, owner):
    running = DataJob.objects.create(
        organization=reels.organization, user=owner, job_type="import", status="running"
    )
    SyncConnection.objects.filter(pk=reels.pk).update(running_job=running)
    busy = api.post(f"{BASE}{reels.pk}/sync/", {}, format="json")
    assert busy.status_code == 409 and "already running" in busy.json()["error"]


def test_it_hides_another_organizations_connections_and_runs(other_org, other_user, reels, owner):
    other = token_client(make_token(other_user, other_org))
    assert other.get(BASE).json()["results"] == []
    for method, url in (
        ("get", f"{BASE}{reels.pk}/"),
        ("patch", f"{BASE}{reels.pk}/"),
        ("post", f"{BASE}{reels.pk}/test/"),
        ("get", f"{BASE}{reels.pk}/available/"),
        ("post", f"{BASE}{reels.pk}/sync/"),
    ):
        assert getattr(other, method)(url, {}, format="json").status_code == 404, url
    run = SyncRun.objects.get(job=sync_run_now(connection=reels, user=owner, dry_run=True))
    assert other.get(f"/api/v1/sync-runs/{run.pk}/").status_code == 404


def test_it_needs_the_sync_permission(org, manager, member, reels):
    for user in (manager, member):
        client = token_client(make_token(user, org))
        assert client.get(BASE).status_code == 403
        assert client.post(f"{BASE}{reels.pk}/sync/", {}, format="json").status_code == 403


def test_it_documents_the_sync_endpoints_in_the_schema(client):
    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)
    assert {
        "/api/v1/sync-connections/",
        "/api/v1/sync-connections/{id}/",
        "/api/v1/sync-connections/{id}/test/",
        "/api/v1/sync-connections/{id}/available/",
        "/api/v1/sync-connections/{id}/sync/",
        "/api/v1/sync-runs/",
        "/api/v1/sync-runs/{id}/",
    } <= set(schema["paths"])
    started = schema["paths"]["/api/v1/sync-connections/{id}/sync/"]["post"]
    assert {"202", "400", "403", "404", "409"} <= set(started["responses"])
