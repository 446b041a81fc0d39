"""A job's row log quotes raw cells of the uploaded file: it needs the permission of the job's
files, in the API and on the web job page alike."""

from __future__ import annotations

import pytest

from business.resources import resource_get
from jobs.models import DataJob
from jobs.services import job_log
from tests.api.conftest import make_job

pytestmark = pytest.mark.django_db

SECRET = "4111 1111 1111 1111"


@pytest.fixture
def contacts_import(org, owner):
    job = make_job(
        org,
        owner,
        job_type=DataJob.Type.IMPORT,
        target="contacts",
        status=DataJob.Status.COMPLETED,
        params={"permission": resource_get("contacts").import_permission()},
        input=("people.csv", f"Email,Card\nnot-an-email,{SECRET}\n".encode()),
    )
    job_log(
        job=job,
        entries=[
            {
                "row_number": 2,
                "level": "error",
                "column": "Card",
                "value": SECRET,
                "message": "Not a valid e-mail address.",
            }
        ],
    )
    return job


def test_it_refuses_the_row_log_to_a_viewer_in_the_api(viewer_api, contacts_import):
    response = viewer_api.get(f"/api/v1/data-jobs/{contacts_import.pk}/log/")
    assert response.status_code == 403
    assert SECRET not in response.content.decode()
    assert "permission" in response.json()["error"]


def test_it_refuses_the_row_log_to_a_viewer_through_the_session(viewer_client, contacts_import):
    response = viewer_client.get(f"/api/v1/data-jobs/{contacts_import.pk}/log/")
    assert response.status_code == 403
    assert SECRET not in response.content.decode()


def test_it_gives_the_row_log_to_whoever_may_see_the_files(owner_api, contacts_import):
    response = owner_api.get(f"/api/v1/data-jobs/{contacts_import.pk}/log/")
    assert response.status_code == 200
    assert response.json()["results"][0]["value"] == SECRET


def test_it_hides_the_row_log_on_the_job_page_from_a_viewer(viewer_client, contacts_import):
    response = viewer_client.get(f"/jobs/{contacts_import.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert SECRET not in html
    assert "your role does not include the permission to see them" in html
    # The level filter and pagination fragment gives nothing away either.
    fragment = viewer_client.get(
        f"/jobs/{contacts_import.pk}/?level=error",
        headers={"HX-Request": "true", "HX-Target": "job-log"},
    )
    assert SECRET not in fragment.content.decode()


def test_it_shows_the_row_log_on_the_job_page_to_the_owner(owner_client, contacts_import):
    html = owner_client.get(f"/jobs/{contacts_import.pk}/").content.decode()
    assert SECRET in html
    assert "Not a valid e-mail address." in html
