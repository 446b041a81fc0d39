"""The schedules REST API: CRUD, activate/deactivate/trigger, upcoming/overdue, history,
statistics, recent, download, notification settings; scoped and permission-checked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from reports.schedules.models import Schedule
from tests.api.conftest import make_token, token_client
from tests.reports.schedules.conftest import run_here, schedule_data


@pytest.fixture(autouse=True)
def _api_rate(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "100000/minute"},
    }


@pytest.fixture
def api(manager, org):
    return token_client(make_token(manager, org))


def body(**overrides):
    data = schedule_data(**overrides)
    return data


def test_it_creates_lists_updates_and_deletes_schedules(api, sales):
    created = api.post("/api/v1/schedules/", body(), format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["recurrence"] == "Every Monday at 07:00 Europe/Zurich"
    assert data["owner"] == "manager" and data["formats"] == ["xlsx", "pdf"]
    pk = data["id"]
    listed = api.get("/api/v1/schedules/").json()
    assert [s["id"] for s in listed["results"]] == [pk]
    changed = api.put(
        f"/api/v1/schedules/{pk}/",
        body(frequency="monthly", monthly_mode="nth", nth=2, nth_weekday="TU"),
        format="json",
    )
    assert changed.status_code == 200
    assert changed.json()["recurrence"] == (
        "On the second Tuesday of every month at 07:00 Europe/Zurich"
    )
    assert api.delete(f"/api/v1/schedules/{pk}/").status_code == 204
    assert not Schedule.objects.exists()


def test_it_answers_bad_input_with_field_messages(api):
    response = api.post(
        "/api/v1/schedules/",
        body(timezone="Nowhere/Special", recipients=["x@"], frequency="custom", rrule="FREQ=X"),
        format="json",
    )
    assert response.status_code == 400
    details = response.json()["details"]
    assert "Nowhere/Special" in details["timezone"][0]
    assert "x@" in details["recipients"][0]
    assert "recurrence" in details


def test_it_activates_deactivates_and_lists_upcoming_and_overdue(api, make_schedule):
    schedule = make_schedule()
    paused = api.post(f"/api/v1/schedules/{schedule.pk}/deactivate/")
    assert paused.status_code == 200 and paused.json()["is_active"] is False
    assert api.get("/api/v1/schedules/upcoming/").json() == []
    active = api.post(f"/api/v1/schedules/{schedule.pk}/activate/")
    assert active.json()["is_active"] is True
    upcoming = api.get("/api/v1/schedules/upcoming/").json()
    assert [s["id"] for s in upcoming] == [schedule.pk]
    Schedule.objects.filter(pk=schedule.pk).update(
        next_run_at=timezone.now() - dt.timedelta(hours=1)
    )
    overdue = api.get("/api/v1/schedules/overdue/").json()
    assert [s["id"] for s in overdue] == [schedule.pk]


def test_it_triggers_a_run_and_shows_history_statistics_recent_and_the_file(
    api, make_schedule, smtp, sales
):
    schedule = make_schedule(formats=["xlsx", "csv"])
    triggered = api.post(f"/api/v1/schedules/{schedule.pk}/trigger/")
    assert triggered.status_code == 202 and triggered.json()["status"] == "queued"
    from reports.schedules.models import ScheduleRun

    run = run_here(ScheduleRun.objects.get(pk=triggered.json()["id"]))
    assert run.status == "emailed"
    history = api.get(f"/api/v1/schedule-history/?schedule={schedule.pk}").json()["results"]
    assert history[0]["id"] == run.pk and history[0]["status"] == "emailed"
    detail = api.get(f"/api/v1/schedule-history/{run.pk}/").json()
    assert {f["format"] for f in detail["files"]} == {"xlsx", "csv"}
    assert detail["recipients"] and detail["duration_seconds"] is not None
    download = api.get(f"/api/v1/schedule-history/{run.pk}/download/?file_format=csv")
    assert download.status_code == 200
    assert b"".join(download.streaming_content)
    stats = api.get(f"/api/v1/schedule-history/statistics/?schedule={schedule.pk}").json()
    assert stats["runs"] == 1 and stats["success_rate"] == 100.0
    assert [r["id"] for r in api.get("/api/v1/schedule-history/recent/").json()] == [run.pk]


def test_it_gets_and_puts_notification_settings(api):
    assert api.get("/api/v1/schedule-notifications/").json()["notify_on"] == "failure"
    changed = api.put(
        "/api/v1/schedule-notifications/",
        {"notify_on": "both", "default_recipients": ["ops@example.com"], "retention_days": 14},
        format="json",
    )
    assert changed.status_code == 200 and changed.json()["retention_days"] == 14
    bad = api.put("/api/v1/schedule-notifications/", {"reply_to": "nope"}, format="json")
    assert bad.status_code == 400 and "reply_to" in bad.json()["details"]


def test_it_refuses_notification_settings_of_the_wrong_shape(api):
    # Each was a 500 (.strip() on a list or a number, a number iterated as addresses).
    for body in ({"reply_to": ["a@example.com"]}, {"from_name": 5}, {"default_recipients": 7}):
        bad = api.put("/api/v1/schedule-notifications/", body, format="json")
        assert bad.status_code == 400, body
        assert set(bad.json()["details"]) == set(body), bad.json()
    # A form body is not the documented JSON object: its values would arrive as lists.
    form = api.put("/api/v1/schedule-notifications/", {"reply_to": "a@example.com"})
    assert form.status_code == 415


def test_it_documents_what_the_schedule_lists_answer(api):
    assert api.get("/api/v1/schedules/?page=0").status_code == 404
    for path in ("/api/v1/schedules/upcoming/", "/api/v1/schedule-history/recent/"):
        assert api.get(path).json() == []  # a plain list, not a page
    paths = api.get("/api/schema/?format=json").json()["paths"]
    assert "404" in paths["/api/v1/schedules/"]["get"]["responses"]
    upcoming = paths["/api/v1/schedules/upcoming/"]["get"]["responses"]["200"]
    assert upcoming["content"]["application/json"]["schema"]["type"] == "array"


def test_it_hides_another_organizations_schedules_and_runs(
    make_schedule, other_user, other_org, smtp, run_now, sales
):
    schedule = make_schedule(formats=["csv"])
    run = run_now(schedule)
    other = token_client(make_token(other_user, other_org))
    assert other.get(f"/api/v1/schedules/{schedule.pk}/").status_code == 404
    assert other.post(f"/api/v1/schedules/{schedule.pk}/trigger/").status_code == 404
    assert other.get(f"/api/v1/schedule-history/{run.pk}/").status_code == 404
    assert other.get(f"/api/v1/schedule-history/{run.pk}/download/").status_code == 404
    assert other.get("/api/v1/schedules/").json()["results"] == []


def test_it_refuses_members_without_the_schedule_permission(org, member, viewer):
    for user in (member, viewer):
        client = token_client(make_token(user, org))
        response = client.get("/api/v1/schedules/")
        assert response.status_code == 403
        assert "can_manage_schedules" in str(response.json())


def test_it_documents_the_endpoints_in_the_openapi_schema(api):
    schema = api.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/schedules/",
        "/api/v1/schedules/{id}/",
        "/api/v1/schedules/{id}/activate/",
        "/api/v1/schedules/{id}/deactivate/",
        "/api/v1/schedules/{id}/trigger/",
        "/api/v1/schedules/upcoming/",
        "/api/v1/schedules/overdue/",
        "/api/v1/schedule-history/",
        "/api/v1/schedule-history/{id}/",
        "/api/v1/schedule-history/{id}/download/",
        "/api/v1/schedule-history/statistics/",
        "/api/v1/schedule-history/recent/",
        "/api/v1/schedule-notifications/",
    ):
        assert path in paths, path
    assert {"get", "put"} <= set(paths["/api/v1/schedule-notifications/"])
