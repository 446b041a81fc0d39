"""The jobs pages: dashboard, detail, status fragment, actions, downloads; scoped and permission-checked."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jobs.models import DataJob, JobLogEntry
from jobs.services import job_log

Status = DataJob.Status


def _content(response) -> bytes:
    return b"".join(response.streaming_content)


# --- organization scoping ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "method", "extra"),
    [
        ("jobs:detail", "get", ()),
        ("jobs:status", "get", ()),
        ("jobs:cancel", "post", ()),
        ("jobs:mark_failed", "post", ()),
        ("jobs:download", "get", ("input",)),
        ("jobs:download", "get", ("output",)),
        ("jobs:download", "get", ("failed-rows",)),
    ],
)
def test_it_answers_404_for_another_organizations_job(
    other_client, job_with_files, name, method, extra
):
    url = reverse(name, args=[job_with_files.pk, *extra])
    response = getattr(other_client, method)(url)
    assert response.status_code == 404


def test_it_does_not_list_another_organizations_jobs(other_client, job_with_files):
    response = other_client.get(reverse("jobs:dashboard"))
    assert response.status_code == 200
    assert f'id="job-{job_with_files.pk}"' not in response.content.decode()


def test_it_leaves_another_organizations_running_job_running(other_client, org, owner, make_job):
    job = make_job(org, owner, status=Status.RUNNING, started_at=timezone.now())
    other_client.post(reverse("jobs:cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == Status.RUNNING and not job.cancel_requested


# --- dashboard -----------------------------------------------------------------------------


def test_it_lists_the_organizations_jobs_newest_first(owner_client, org, owner, make_job):
    old = make_job(
        org,
        owner,
        target="products",
        status=Status.COMPLETED,
        created_at=timezone.now() - timedelta(days=2),
    )
    new = make_job(org, owner, target="contacts", status=Status.QUEUED)
    html = owner_client.get(reverse("jobs:dashboard")).content.decode()
    assert html.index(f'id="job-{new.pk}"') < html.index(f'id="job-{old.pk}"')
    assert "<h1>Jobs</h1>" in html


def test_it_filters_the_dashboard(owner_client, org, owner, member, make_job):
    imp = make_job(org, owner, target="contacts", status=Status.COMPLETED)
    exp = make_job(
        org, member, job_type=DataJob.Type.EXPORT, target="products", status=Status.RUNNING
    )
    old = make_job(org, owner, status=Status.FAILED, created_at=timezone.now() - timedelta(days=40))
    url = reverse("jobs:dashboard")

    def listed(**params):
        html = owner_client.get(url, params).content.decode()
        return {j.pk for j in (imp, exp, old) if f'id="job-{j.pk}"' in html}

    assert listed(job_type="export") == {exp.pk}
    assert listed(status="completed") == {imp.pk}
    assert listed(target="products") == {exp.pk}
    assert listed(user=member.pk) == {exp.pk}
    since = (timezone.now() - timedelta(days=7)).date().isoformat()
    assert listed(created_from=since) == {imp.pk, exp.pk}
    until = (timezone.now() - timedelta(days=30)).date().isoformat()
    assert listed(created_to=until) == {old.pk}


def test_it_filters_stalled_jobs(owner_client, org, owner, make_job, settings):
    settings.FERRY = {**settings.FERRY, "JOB_STALLED_AFTER_SECONDS": 60}
    long_ago = timezone.now() - timedelta(minutes=10)
    stalled = make_job(
        org, owner, status=Status.RUNNING, started_at=long_ago, heartbeat_at=long_ago
    )
    alive = make_job(
        org, owner, status=Status.RUNNING, started_at=long_ago, heartbeat_at=timezone.now()
    )
    html = owner_client.get(reverse("jobs:dashboard"), {"status": "stalled"}).content.decode()
    assert f'id="job-{stalled.pk}"' in html and f'id="job-{alive.pk}"' not in html
    assert "Mark failed" in html


def test_it_sorts_and_paginates_the_dashboard(owner_client, org, owner, make_job):
    jobs = [make_job(org, owner, target=f"t{n:02d}", status=Status.COMPLETED) for n in range(30)]
    row = 'id="job-{}"'.format
    html = owner_client.get(reverse("jobs:dashboard"), {"sort": "target"}).content.decode()
    assert html.index(row(jobs[0].pk)) < html.index(row(jobs[1].pk))
    assert row(jobs[29].pk) not in html  # on page 2
    page2 = owner_client.get(reverse("jobs:dashboard"), {"sort": "target", "page": 2})
    assert row(jobs[29].pk) in page2.content.decode()


def test_it_polls_only_active_jobs_on_the_dashboard(owner_client, org, owner, make_job):
    running = make_job(org, owner, status=Status.RUNNING, started_at=timezone.now())
    queued = make_job(org, owner, status=Status.QUEUED)
    done = make_job(org, owner, status=Status.COMPLETED)
    # A pending job is an import wizard draft: not listed at all (the wizard lists drafts).
    draft = make_job(org, owner, status=Status.PENDING)
    html = owner_client.get(reverse("jobs:dashboard")).content.decode()
    assert f"{reverse('jobs:status', args=[running.pk])}?view=row" in html
    assert f"{reverse('jobs:status', args=[queued.pk])}?view=row" in html
    assert html.count('hx-trigger="every 1s"') == 2
    assert reverse("jobs:status", args=[done.pk]) not in html
    assert f'id="job-{draft.pk}"' not in html
    assert "Waiting for a worker" in html


def test_it_shows_the_worker_check_button_to_admins_only(owner_client, member_client):
    assert "Check the worker" in owner_client.get(reverse("jobs:dashboard")).content.decode()
    assert "Check the worker" not in member_client.get(reverse("jobs:dashboard")).content.decode()


def test_it_queues_a_worker_check_for_an_admin(
    owner_client, org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_client.post(reverse("jobs:worker_check"))
    assert response.status_code == 302
    job = DataJob.objects.get(organization=org)
    assert (job.job_type, job.target, job.status) == ("system", "worker-check", Status.QUEUED)
    assert len(callbacks) == 1


def test_it_refuses_the_worker_check_to_non_admins(member_client, org):
    assert member_client.post(reverse("jobs:worker_check")).status_code == 403
    assert not DataJob.objects.filter(organization=org).exists()


# --- the status fragment -------------------------------------------------------------------


def test_it_keeps_polling_while_the_job_runs(owner_client, org, owner, make_job):
    job = make_job(
        org, owner, status=Status.RUNNING, started_at=timezone.now(), total=10, processed=4
    )
    response = owner_client.get(reverse("jobs:status", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'hx-trigger="every 1s"' in html and 'aria-valuenow="40"' in html


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.FAILED, Status.CANCELLED])
@pytest.mark.parametrize("view", ["row", "detail"])
def test_it_answers_286_when_the_job_is_done(owner_client, org, owner, make_job, status, view):
    job = make_job(org, owner, status=status, finished_at=timezone.now())
    response = owner_client.get(
        reverse("jobs:status", args=[job.pk]), {"view": view}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 286
    assert response["HX-Trigger"] == "job-finished"
    html = response.content.decode()
    assert "hx-trigger" not in html
    assert job.get_status_display() in html


# --- job detail ----------------------------------------------------------------------------


def test_it_shows_a_jobs_counts_timings_files_and_summary(owner_client, job_with_files):
    job = job_with_files
    DataJob.objects.filter(pk=job.pk).update(
        total=1200,
        processed=1200,
        succeeded=1100,
        failed=60,
        skipped=40,
        started_at=timezone.now() - timedelta(seconds=12),
        finished_at=timezone.now(),
        params={"permission": "can_import_contact", "result_url": "/import/results/9/"},
    )
    html = owner_client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    for text in ("1,200", "1,100", "60", "40", "rows/s", "12 s", "Created", "contacts-result.xlsx"):
        assert text in html, text
    assert reverse("jobs:download", args=[job.pk, "input"]) in html
    assert reverse("jobs:download", args=[job.pk, "output"]) in html
    assert reverse("jobs:download", args=[job.pk, "failed-rows"]) in html
    assert 'href="/import/results/9/"' in html
    assert "<h1>" in html


def test_it_never_links_a_result_url_off_the_site(owner_client, org, owner, make_job):
    job = make_job(org, owner, params={"result_url": "javascript:alert(1)"})
    html = owner_client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "javascript:" not in html


def test_it_shows_the_safe_error_message(owner_client, org, owner, make_job):
    job = make_job(org, owner, status=Status.FAILED, error_message="The file has no header row.")
    html = owner_client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "The file has no header row." in html


def test_it_paginates_and_filters_the_row_log(owner_client, org, owner, make_job):
    job = make_job(org, owner, status=Status.COMPLETED)
    job_log(
        job=job,
        entries=[
            dict(
                row_number=n,
                column="email",
                value=f"bad{n}",
                message=f"Value bad{n} is not an e-mail address.",
                level=JobLogEntry.Level.ERROR if n % 2 else JobLogEntry.Level.WARNING,
            )
            for n in range(1, 121)
        ],
    )
    url = reverse("jobs:detail", args=[job.pk])
    html = owner_client.get(url).content.decode()
    assert "Value bad1 is not an e-mail address." in html
    assert "Value bad51 is not" not in html  # second page
    assert "Page 1 of 3" in html
    fragment = owner_client.get(
        url, {"level": "warning", "page": 2}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="job-log"
    ).content.decode()
    assert fragment.lstrip().startswith('<section id="job-log"')
    assert "Value bad102 is not" in fragment and "Value bad101 is not" not in fragment
    assert "Page 2 of 2" in fragment


def test_it_shows_a_cancel_button_only_while_active(owner_client, org, owner, make_job):
    active = make_job(org, owner, status=Status.QUEUED)
    done = make_job(org, owner, status=Status.COMPLETED)
    assert (
        reverse("jobs:cancel", args=[active.pk])
        in owner_client.get(reverse("jobs:detail", args=[active.pk])).content.decode()
    )
    assert (
        reverse("jobs:cancel", args=[done.pk])
        not in owner_client.get(reverse("jobs:detail", args=[done.pk])).content.decode()
    )


# --- actions -------------------------------------------------------------------------------


def test_it_cancels_a_queued_job_from_the_page(owner_client, org, owner, make_job):
    job = make_job(org, owner, status=Status.QUEUED)
    response = owner_client.post(reverse("jobs:cancel", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Status.CANCELLED


def test_it_lets_only_the_starter_or_an_admin_cancel(
    member_client, manager_client, org, owner, member, make_job
):
    job = make_job(org, owner, status=Status.QUEUED)
    assert member_client.post(reverse("jobs:cancel", args=[job.pk])).status_code == 403
    mine = make_job(org, member, status=Status.QUEUED)
    assert member_client.post(reverse("jobs:cancel", args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    assert mine.status == Status.CANCELLED


def test_it_marks_a_stalled_job_failed_from_the_page(owner_client, org, owner, make_job, settings):
    settings.FERRY = {**settings.FERRY, "JOB_STALLED_AFTER_SECONDS": 60}
    long_ago = timezone.now() - timedelta(minutes=10)
    job = make_job(org, owner, status=Status.RUNNING, started_at=long_ago, heartbeat_at=long_ago)
    html = owner_client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "Stalled" in html and reverse("jobs:mark_failed", args=[job.pk]) in html
    owner_client.post(reverse("jobs:mark_failed", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == Status.FAILED


def test_it_does_not_mark_a_healthy_running_job_failed(owner_client, org, owner, make_job):
    job = make_job(
        org, owner, status=Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    owner_client.post(reverse("jobs:mark_failed", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == Status.RUNNING


# --- downloads -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "filename", "body"),
    [
        ("input", "Contacts März.csv", b"email\na@example.com\n"),
        ("output", "contacts-result.xlsx", b"PK-fake-xlsx"),
        ("failed-rows", "contacts-failed-rows.csv", b"row,error\n2,bad\n"),
    ],
)
def test_it_downloads_a_jobs_file_with_its_proper_name(
    member_client, job_with_files, kind, filename, body
):
    response = member_client.get(reverse("jobs:download", args=[job_with_files.pk, kind]))
    assert response.status_code == 200
    assert _content(response) == body
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert filename in disposition or "filename*=utf-8''" in disposition


def test_it_refuses_a_download_without_the_jobs_permission(viewer_client, job_with_files):
    # Viewers may export but never import: an import's files are not theirs to read.
    response = viewer_client.get(reverse("jobs:download", args=[job_with_files.pk, "input"]))
    assert response.status_code == 403
    html = viewer_client.get(reverse("jobs:detail", args=[job_with_files.pk])).content.decode()
    assert "does not allow downloading" in html


def test_it_answers_404_for_a_missing_file_or_kind(owner_client, job_with_files):
    job_with_files.output_file.storage.delete(job_with_files.output_file.name)
    assert (
        owner_client.get(reverse("jobs:download", args=[job_with_files.pk, "output"])).status_code
        == 404
    )
    assert (
        owner_client.get(reverse("jobs:download", args=[job_with_files.pk, "nope"])).status_code
        == 404
    )


def test_it_answers_404_when_a_job_has_no_such_file(owner_client, org, owner, make_job):
    job = make_job(org, owner)
    assert owner_client.get(reverse("jobs:download", args=[job.pk, "output"])).status_code == 404


# --- people without an organization --------------------------------------------------------


@pytest.mark.parametrize("name", ["jobs:dashboard"])
def test_it_sends_a_user_without_organization_to_the_explanation(client_for, outsider, name):
    response = client_for(outsider).get(reverse(name))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:no_organization")


def test_it_sends_anonymous_visitors_to_log_in(client):
    response = client.get(reverse("jobs:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_shows_counts_in_a_dashboard_row(owner_client, org, owner, make_job):
    job = make_job(
        org,
        owner,
        status=Status.RUNNING,
        started_at=timezone.now(),
        total=2000,
        processed=1500,
        failed=12,
    )
    response = owner_client.get(
        reverse("jobs:status", args=[job.pk]), {"view": "row"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "1,500 of 2,000 rows" in html and "12 failed" in html
    assert 'aria-valuenow="75"' in html


def test_it_refreshes_the_overview_when_asked_by_htmx(owner_client, org, owner, make_job):
    make_job(org, owner, status=Status.RUNNING, started_at=timezone.now())
    make_job(org, owner, status=Status.FAILED)
    response = owner_client.get(
        reverse("jobs:dashboard"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="jobs-overview"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="stats" id="jobs-overview"')
    assert "<h1>" not in html
    assert response.context["overview"] == {
        "running": 1,
        "queued": 0,
        "completed": 0,
        "failed": 1,
        "stalled": 0,
    }


def test_it_renders_the_dashboard_with_a_fixed_number_of_queries(
    owner_client, org, owner, member, make_job, django_assert_max_num_queries
):
    for n in range(3):
        make_job(org, owner if n % 2 else member, status=Status.RUNNING, started_at=timezone.now())
    owner_client.get(reverse("jobs:dashboard"))
    with django_assert_max_num_queries(20) as few:
        owner_client.get(reverse("jobs:dashboard"))
    for n in range(22):
        make_job(org, owner if n % 2 else member, status=Status.COMPLETED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        owner_client.get(reverse("jobs:dashboard"))


def test_it_explains_an_empty_dashboard(owner_client):
    html = owner_client.get(reverse("jobs:dashboard")).content.decode()
    assert "No jobs yet." in html
    filtered = owner_client.get(reverse("jobs:dashboard"), {"status": "failed"}).content.decode()
    assert "No jobs match these filters." in filtered


def test_it_writes_the_same_dashboard_rows_as_django_tables2s_cell_by_cell_rendering(
    rf, org, owner, member, make_job
):
    """DataJobTable.rows_html skips django-tables2's per-cell machinery: every cell (links,
    labels, the live status cell, dates, blanks, escaping) must match what it would write."""
    import re

    from django.template import RequestContext, Template

    from accounts.models import Membership
    from jobs.selectors import jobs_for, jobs_listed
    from jobs.tables import DataJobTable

    make_job(org, owner, status=DataJob.Status.RUNNING, total=10, processed=4)
    make_job(org, owner, status=DataJob.Status.COMPLETED, input_filename="<b>a&b</b>.csv")
    make_job(
        org,
        member,
        job_type=DataJob.Type.EXPORT,
        status=DataJob.Status.FAILED,
        output_filename="out.xlsx",
        failed=3,
    )
    make_job(org, None, status=DataJob.Status.QUEUED, target_label="")
    page = Template("{% load django_tables2 %}{% render_table table template %}")
    request = rf.get("/jobs/")
    request.user, request.organization = owner, org
    request.membership = Membership.objects.get(user=owner, organization=org)

    def rows(template: str) -> str:
        table = DataJobTable(jobs_listed(jobs_for(organization=org)))
        table.paginate(per_page=25)
        html = page.render(RequestContext(request, {"table": table, "template": template}))
        body = re.search(r"<tbody.*?</tbody>", html, re.S).group(0)
        body = re.sub(r"<(tbody|tr|td) >", r"<\1>", re.sub(r"\s+", " ", body))
        return re.sub(r"\s*(<|>)\s*", r"\1", body)

    ours = rows("jobs/table.html")
    assert ours == rows("django_tables2/table.html")
    assert ours.count("<tr id=") == 4
