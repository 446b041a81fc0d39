"""Who may control a job and read its files: one rule in jobs.selectors, the pages and the API
both asking it (issue 10)."""

from __future__ import annotations

from accounts.models import Membership
from jobs.selectors import job_controllable, job_files_allowed


def _membership(user, org):
    return Membership.objects.get(user=user, organization=org)


def test_it_lets_only_the_starter_or_an_admin_read_files_of_a_job_without_a_code(
    org, owner, manager, member, make_job
):
    job = make_job(org, member, params={})
    assert job_files_allowed(job=job, membership=_membership(member, org))
    assert job_files_allowed(job=job, membership=_membership(owner, org))
    # The pages used to let any member in; the API did not. The stricter rule holds for both.
    assert not job_files_allowed(job=job, membership=_membership(manager, org))


def test_it_asks_for_the_jobs_code_when_it_names_one(org, owner, member, viewer, make_job):
    job = make_job(org, owner, params={"permission": "can_import_contact"})
    assert job_files_allowed(job=job, membership=_membership(member, org))
    assert not job_files_allowed(job=job, membership=_membership(viewer, org))


def test_it_refuses_another_organizations_member(org, other_org, owner, other_user, make_job):
    job = make_job(org, owner, params={})
    other = Membership.objects.get(user=other_user, organization=other_org)
    assert not job_files_allowed(job=job, membership=other)
    assert not job_controllable(job=job, membership=other, user=other_user)


def test_it_refuses_the_same_download_on_the_page_and_in_the_api(
    org, member, manager, member_client, manager_client, make_job, settings, tmp_path
):
    from django.core.files.base import ContentFile
    from rest_framework.test import APIClient

    from api.tokens import token_create

    settings.MEDIA_ROOT = tmp_path
    job = make_job(org, member, params={})
    job.input_file.save("mine.csv", ContentFile(b"a,b\n1,2\n"))
    page = f"/jobs/{job.pk}/download/input/"
    assert member_client.get(page).status_code == 200
    assert manager_client.get(page).status_code == 403
    api = APIClient()
    _, secret = token_create(organization=org, user=manager, name="t")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get(f"/api/v1/data-jobs/{job.pk}/files/input/").status_code == 403
