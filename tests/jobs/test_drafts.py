"""The wizard's list of unfinished imports: resume and discard (drafts are not jobs)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jobs.models import DataJob
from tests.wizard.test_engine import draft, write_file


@pytest.fixture
def upload(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"

    def make(org, user, name="people.csv"):
        path = write_file(tmp_path, [["Email"], ["a@x.com"]], name=name)
        return draft(org, user, "contacts", path)

    return make


def test_it_lists_unfinished_imports_with_resume_and_discard(owner_client, org, owner, upload):
    job = upload(org, owner, "Leads März.csv")
    html = owner_client.get(reverse("wizard:drafts")).content.decode()
    assert "Leads März.csv" in html and "Contacts" in html
    assert reverse("wizard:resume", args=[job.pk]) in html
    assert reverse("wizard:draft_discard", args=[job.pk]) in html


def test_it_discards_a_draft_with_its_file_and_previews(owner_client, org, owner, upload):
    job = upload(org, owner)
    name = job.input_file.name
    storage = job.input_file.storage
    preview = DataJob.objects.create(
        organization=org,
        user=owner,
        job_type=DataJob.Type.IMPORT,
        target="contacts",
        status=DataJob.Status.COMPLETED,
        params={"dry_run": True, "preview_for": job.pk},
        input_file=name,
    )
    assert storage.exists(name)
    response = owner_client.post(reverse("wizard:draft_discard", args=[job.pk]), follow=True)
    assert "was discarded" in response.content.decode()
    assert not DataJob.objects.filter(pk__in=[job.pk, preview.pk]).exists()
    assert not storage.exists(name)


def test_it_never_discards_a_started_import(owner_client, org, owner, upload):
    job = upload(org, owner)
    DataJob.objects.filter(pk=job.pk).update(status=DataJob.Status.QUEUED)
    response = owner_client.post(reverse("wizard:draft_discard", args=[job.pk]))
    assert response.status_code == 404
    assert DataJob.objects.filter(pk=job.pk).exists()


def test_it_shows_members_their_own_drafts_and_admins_all(
    owner_client, member_client, org, owner, member, upload
):
    mine = upload(org, member, "mine.csv")
    theirs = upload(org, owner, "theirs.csv")
    member_html = member_client.get(reverse("wizard:drafts")).content.decode()
    assert "mine.csv" in member_html and "theirs.csv" not in member_html
    assert member_client.post(reverse("wizard:draft_discard", args=[theirs.pk])).status_code == 404
    owner_html = owner_client.get(reverse("wizard:drafts")).content.decode()
    assert "mine.csv" in owner_html and "theirs.csv" in owner_html
    assert DataJob.objects.filter(pk=mine.pk).exists()


def test_it_keeps_another_organizations_drafts_out_of_reach(other_client, org, owner, upload):
    job = upload(org, owner, "secret.csv")
    assert "secret.csv" not in other_client.get(reverse("wizard:drafts")).content.decode()
    response = other_client.post(reverse("wizard:draft_discard", args=[job.pk]))
    assert response.status_code == 404
    assert DataJob.objects.filter(pk=job.pk).exists()
