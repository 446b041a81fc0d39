"""The schedule pages: list, form (with its htmx partials), detail and history, run, downloads,
notification settings; scoped to the organization and gated by can_manage_schedules."""

from __future__ import annotations

from reports.schedules.models import Schedule

FORM = {
    "name": "Monday sales",
    "exporter": "sales",
    "period": "last_week",
    "formats": ["xlsx", "pdf"],
    "frequency": "weekly",
    "weekdays": ["MO"],
    "monthly_mode": "day",
    "nth": "2",
    "nth_weekday": "TU",
    "run_time": "07:00",
    "timezone": "Europe/Zurich",
    "recipients": "boss@example.com",
    "subject": "{report} {period}",
}


def test_it_creates_a_schedule_from_the_form_with_report_parameters(manager_client, sales):
    response = manager_client.post(
        "/export/schedules/new/", {**FORM, "p-status": ["confirmed", "invoiced"]}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    schedule = Schedule.objects.get()
    assert schedule.params == {"status": ["confirmed", "invoiced"]}
    assert schedule.period == "last_week"
    page = manager_client.get(response["Location"]).content.decode()
    assert "Every Monday at 07:00 Europe/Zurich" in page and "Run now" in page


def test_it_shows_every_bad_field_on_the_form(manager_client):
    response = manager_client.post(
        "/export/schedules/new/",
        {**FORM, "timezone": "Atlantis/Lost", "recipients": "a@example.com, nope", "weekdays": []},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Unknown time zone &#x27;Atlantis/Lost&#x27;" in html
    assert "Not a valid e-mail address: nope." in html
    assert "Choose at least one day of the week" in html
    assert not Schedule.objects.exists()


def test_it_previews_the_recurrence_in_words_with_the_next_runs(manager_client):
    response = manager_client.get(
        "/export/schedules/form/recurrence/",
        {
            "frequency": "monthly",
            "monthly_mode": "nth",
            "nth": "2",
            "nth_weekday": "TU",
            "run_time": "07:00",
            "timezone": "America/New_York",
        },
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "On the second Tuesday of every month at 07:00 America/New_York" in html
    assert "Next:" in html and ("EST" in html or "EDT" in html)
    bad = manager_client.get(
        "/export/schedules/form/recurrence/",
        {"frequency": "custom", "rrule": "FREQ=HOURLY", "run_time": "07:00", "timezone": "UTC"},
    )
    assert "at most once a day" in bad.content.decode()


def test_it_swaps_in_the_chosen_reports_parameters(manager_client):
    html = manager_client.get(
        "/export/schedules/form/params/", {"exporter": "sales"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'name="p-date_from"' in html and 'name="p-warehouse"' in html
    assert "<html" not in html


def test_it_lists_filters_with_htmx_and_shows_history_and_run(
    manager_client, make_schedule, run_now, smtp, sales
):
    schedule = make_schedule(formats=["csv"])
    run = run_now(schedule)
    page = manager_client.get("/export/schedules/").content.decode()
    assert "Weekly sales" in page and "E-mailed" in page
    partial = manager_client.get(
        "/export/schedules/", {"state": "paused"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Weekly sales" not in partial and "<html" not in partial
    history = manager_client.get(
        f"/export/schedules/{schedule.pk}/",
        {"status": "failed"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="history",
    ).content.decode()
    assert "No runs match" in history
    detail = manager_client.get(f"/export/schedules/{schedule.pk}/history/{run.pk}/").content
    assert b"E-mailed" in detail and b".csv" in detail
    file = run.files.get()
    download = manager_client.get(f"/export/schedules/files/{file.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content)


def test_it_runs_now_pauses_activates_duplicates_and_deletes(manager_client, make_schedule):
    schedule = make_schedule()
    base = f"/export/schedules/{schedule.pk}"
    response = manager_client.post(f"{base}/run/")
    assert response.status_code == 302 and "/history/" in response["Location"]
    manager_client.post(f"{base}/pause/")
    schedule.refresh_from_db()
    assert not schedule.is_active
    manager_client.post(f"{base}/activate/")
    schedule.refresh_from_db()
    assert schedule.is_active
    manager_client.post(f"{base}/duplicate/")
    assert Schedule.objects.filter(name="Copy of Weekly sales").exists()
    manager_client.post(f"{base}/delete/")
    assert not Schedule.objects.filter(pk=schedule.pk).exists()


def test_it_saves_notification_settings_and_refuses_bad_addresses(manager_client, org):
    ok = manager_client.post(
        "/export/schedules/notifications/",
        {"notify_on": "both", "default_recipients": "ops@example.com", "retention_days": 14},
    )
    assert ok.status_code == 302
    assert org.schedule_notifications.retention_days == 14
    bad = manager_client.post(
        "/export/schedules/notifications/",
        {"notify_on": "both", "default_recipients": "ops@", "retention_days": 14},
    )
    assert "Not a valid e-mail address: ops@." in bad.content.decode()


def test_it_is_a_404_for_another_organizations_schedule(other_client, make_schedule):
    schedule = make_schedule()
    assert other_client.get(f"/export/schedules/{schedule.pk}/").status_code == 404
    assert other_client.post(f"/export/schedules/{schedule.pk}/run/").status_code == 404
    assert other_client.get(f"/export/schedules/{schedule.pk}/edit/").status_code == 404


def test_it_refuses_members_without_the_permission(member_client, viewer_client):
    for client in (member_client, viewer_client):
        assert client.get("/export/schedules/").status_code == 403
    nav = member_client.get("/jobs/").content.decode()
    assert "/export/schedules/" not in nav


def test_it_shows_the_nav_link_to_managers(manager_client):
    assert 'href="/export/schedules/"' in manager_client.get("/jobs/").content.decode()


def test_it_gates_a_kept_pdf_by_the_pdf_permission(
    client_for, make_schedule, run_now, smtp, sales, org
):
    from accounts.models import Membership
    from tests.factories import MembershipFactory, UserFactory

    run = run_now(make_schedule(formats=["pdf"]))
    clerk = UserFactory(username="clerk")
    MembershipFactory(
        user=clerk,
        organization=org,
        role="ops",
        granted_permissions=["can_manage_schedules"],
    )
    assert Membership.objects.get(user=clerk).has_perm("can_manage_schedules")
    pdf = run.files.get()
    assert client_for(clerk).get(f"/export/schedules/files/{pdf.pk}/").status_code == 403
