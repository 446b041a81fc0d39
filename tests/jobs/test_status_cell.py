"""The job status cell (dashboard rows, sync pages, the ``?view=row`` poll) is written in Python
by ``jobs_tags.job_status_html``: it must write what its template wrote, state by state."""

import re
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from jobs.models import DataJob
from jobs.templatetags.jobs_tags import job_status_html

Status = DataJob.Status

# templates/jobs/dashboard_status.html as it was before the cell was written in Python.
TEMPLATE_BEFORE = Template(
    """{% load humanize jobs_tags %}<div class="job-status" id="job-status-{{ job.pk }}"{% if job|is_live %}
     hx-get="{% url 'jobs:status' job.pk %}?view=row" hx-trigger="every 1s" hx-swap="outerHTML"{% endif %}>
  <div class="job-status-main">
    {% if job.is_stalled %}
      <span class="badge stalled" title="No word from the worker since {{ job.heartbeat_at|default:job.started_at|naturaltime }}">Stalled</span>
    {% else %}
      <span class="badge {{ job.outcome.tone }}">{{ job.outcome.label }}</span>
    {% endif %}
    {% if job|is_live or job.is_stalled or polled %}
      <div class="progress{% if job.is_stalled %} stalled{% elif job.outcome.tone == 'completed' %} done{% elif job.outcome.tone == 'failed' %} failed{% elif job.outcome.tone == 'warning' %} partial{% endif %}" role="progressbar"
           aria-label="Progress of job {{ job.pk }}" aria-valuemin="0" aria-valuemax="100" aria-valuenow="{{ job.percent }}">
        <span style="width: {{ job.percent }}%"></span>
      </div>
      <span class="percent small">{{ job.percent }}%</span>
    {% endif %}
    {% if job.is_stalled and current_membership.is_admin or job.is_stalled and job.user_id == user.pk %}
      <form method="post" action="{% url 'jobs:mark_failed' job.pk %}" class="inline">
        {% csrf_token %}<input type="hidden" name="next" value="dashboard">
        <button type="submit" class="danger">Mark failed</button>
      </form>
    {% endif %}
  </div>
  <div class="job-counts small muted">
    {% if job.status == 'pending' %}Not started yet
    {% elif job.status == 'queued' %}Waiting for a worker
    {% else %}{{ job.processed|intcomma }}{% if job.total %} of {{ job.total|intcomma }}{% endif %} rows{% if job.failed %} · <span class="text-err">{{ job.failed|intcomma }} failed</span>{% endif %}{% if job.skipped %} · {{ job.skipped|intcomma }} skipped{% endif %}{% if job.started_at %} · {{ job.duration|duration }}{% endif %}{% endif %}
  </div>
</div>
"""
)
TAG = Template("{% load jobs_tags %}{% job_status job %}")


def _spaces(html: str) -> str:
    # Whitespace runs read as one space in HTML: the template's indentation is not output.
    return re.sub(r"\s+", " ", html).strip()


def _states(now):
    started = now - timedelta(hours=2, seconds=5)
    # A running job's duration runs on with the clock: ending it (finished_at) keeps the two
    # renderings of one case the same to the second.
    ended = started + timedelta(minutes=75, seconds=3)
    silent = now - timedelta(minutes=10, seconds=30)
    return {
        "pending": {"status": Status.PENDING},
        "queued": {"status": Status.QUEUED},
        "running": {
            "status": Status.RUNNING,
            "started_at": started,
            "heartbeat_at": now,
            "finished_at": ended,
            "total": 100_000,
            "processed": 40_123,
            "succeeded": 40_000,
            "failed": 100,
            "skipped": 23,
        },
        "running, total unknown": {
            "status": Status.RUNNING,
            "started_at": started,
            "heartbeat_at": now,
            "finished_at": ended,
            "processed": 5,
        },
        "stalled": {
            "status": Status.RUNNING,
            "started_at": started,
            "heartbeat_at": silent,
            "finished_at": ended,
            "total": 10,
            "processed": 4,
        },
        "stalled, no heartbeat yet": {
            "status": Status.RUNNING,
            "started_at": silent,
            "finished_at": ended,
            "total": 10,
        },
        "completed": {
            "status": Status.COMPLETED,
            "started_at": started,
            "finished_at": ended,
            "total": 1_234_567,
            "processed": 1_234_567,
            "succeeded": 1_234_567,
        },
        "completed with failed rows": {
            "status": Status.COMPLETED,
            "started_at": started,
            "finished_at": started + timedelta(seconds=42),
            "total": 10,
            "processed": 10,
            "succeeded": 7,
            "failed": 3,
        },
        "all rows failed": {
            "status": Status.COMPLETED,
            "started_at": started,
            "finished_at": ended,
            "total": 2,
            "processed": 2,
            "failed": 2,
        },
        "failed": {"status": Status.FAILED, "started_at": started, "finished_at": ended},
        "rolled back": {
            "status": Status.FAILED,
            "started_at": started,
            "finished_at": ended,
            "summary": {"rolled_back": True},
        },
        "cancelled": {"status": Status.CANCELLED, "started_at": started, "finished_at": ended},
        "failed before it started": {"status": Status.FAILED},
    }


@pytest.fixture
def stalled_after_a_minute(settings):
    settings.FERRY = {**settings.FERRY, "JOB_STALLED_AFTER_SECONDS": 60}


@pytest.mark.usefixtures("stalled_after_a_minute")
@pytest.mark.parametrize("polled", [False, True])
@pytest.mark.parametrize("viewer", ["starter", "admin", "other member", "nobody"])
def test_it_writes_what_the_template_wrote_in_every_state(
    org, owner, member, manager, make_job, polled, viewer
):
    now = timezone.now()
    memberships = {m.user_id: m for m in Membership.objects.filter(organization=org)}
    person = {"starter": member, "admin": owner, "other member": manager, "nobody": None}[viewer]
    membership = memberships.get(person.pk) if person else None
    for state, fields in _states(now).items():
        job = make_job(org, member, **fields)
        context = {
            "job": job,
            "polled": polled,
            "current_membership": membership,
            "user": person,
            "csrf_token": "token<&>",
        }
        before = _spaces(TEMPLATE_BEFORE.render(Context(context)))
        ours = job_status_html(
            job, membership=membership, user=person, csrf_token="token<&>", polled=polled
        )
        assert _spaces(ours) == before, state
        assert _spaces(TAG.render(Context(context))) == before, state


@pytest.mark.usefixtures("stalled_after_a_minute")
def test_it_offers_mark_failed_on_a_stalled_job_to_its_starter_and_admins_only(
    org, owner, member, manager, make_job
):
    silent = timezone.now() - timedelta(minutes=10)
    job = make_job(org, member, status=Status.RUNNING, started_at=silent, heartbeat_at=silent)
    url = reverse("jobs:mark_failed", args=[job.pk])
    for person, offered in ((member, True), (owner, True), (manager, False)):
        membership = Membership.objects.get(organization=org, user=person)
        html = job_status_html(job, membership=membership, user=person, csrf_token="t")
        assert (url in html) is offered, person.username
        assert ('name="csrfmiddlewaretoken" value="t"' in html) is offered


def test_it_escapes_what_it_writes(org, owner, make_job):
    job = make_job(org, owner, status=Status.COMPLETED, failed=1, succeeded=1)
    job.status = '"><script>'
    html = job_status_html(job, membership=None, user=None)
    assert "<script>" not in html and "&quot;&gt;&lt;script&gt;" in html


def test_the_polled_row_is_the_dashboards_cell(owner_client, org, owner, make_job):
    job = make_job(org, owner, status=Status.RUNNING, started_at=timezone.now(), total=10)
    page = owner_client.get(reverse("jobs:dashboard")).content.decode()
    row = owner_client.get(reverse("jobs:status", args=[job.pk]), {"view": "row"})
    assert row.status_code == 200
    fragment = row.content.decode()
    assert fragment.startswith(f'<div class="job-status" id="job-status-{job.pk}" hx-get=')
    # The same block, but a poll always shows the bar (the row shows it while the job runs).
    assert fragment.split("·")[0] in page


@pytest.mark.usefixtures("stalled_after_a_minute")
def test_the_job_pages_progress_bar_takes_the_same_class_as_before(org, owner, make_job):
    # templates/jobs/detail_live.html's bar now reads the cell's rule (progress_class).
    before = Template(
        "{% if job.is_stalled %} stalled{% elif job.outcome.tone == 'completed' %} done"
        "{% elif job.outcome.tone == 'failed' %} failed"
        "{% elif job.outcome.tone == 'warning' %} partial{% endif %}"
    )
    ours = Template("{% load jobs_tags %}{{ job|progress_class }}")
    for state, fields in _states(timezone.now()).items():
        job = make_job(org, owner, **fields)
        assert ours.render(Context({"job": job})) == before.render(Context({"job": job})), state
