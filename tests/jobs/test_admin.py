"""The Django admin pages for organizations and jobs open and list what they should."""

import pytest
from django.urls import reverse

from jobs.models import DataJob
from jobs.services import job_log


@pytest.fixture
def admin_client_(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pass-Word-123")
    client.force_login(user)
    return client


def test_it_lists_and_shows_jobs_read_only(admin_client_, org, owner, make_job):
    job = make_job(org, owner, status=DataJob.Status.FAILED, error_message="Bad header.")
    job_log(
        job=job, entries=[dict(row_number=2, column="email", value="x", message="Not an e-mail.")]
    )
    changelist = admin_client_.get(
        reverse("admin:jobs_datajob_changelist"), {"status__exact": "failed"}
    )
    assert changelist.status_code == 200 and "contacts" in changelist.content.decode()
    change = admin_client_.get(reverse("admin:jobs_datajob_change", args=[job.pk]))
    html = change.content.decode()
    assert change.status_code == 200
    assert "Bad header." in html and "Not an e-mail." in html
    assert admin_client_.get(reverse("admin:jobs_datajob_add")).status_code == 403
    assert admin_client_.get(reverse("admin:jobs_joblogentry_changelist")).status_code == 200


def test_it_edits_memberships_inline_on_the_organization(admin_client_, org, owner):
    response = admin_client_.get(reverse("admin:accounts_organization_change", args=[org.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "memberships-TOTAL_FORMS" in html and "owner" in html
    assert admin_client_.get(reverse("admin:accounts_membership_changelist")).status_code == 200
