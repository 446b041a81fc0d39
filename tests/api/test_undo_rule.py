"""Undo through the API follows the page's rule (jobs.selectors.job_controllable): the person who
ran the import or an admin, nobody else — however many import permissions they hold."""

from __future__ import annotations

from business.models import Contact
from tests.wizard.test_engine import media_in_tmp, run_import  # noqa: F401


def test_it_refuses_an_undo_by_someone_who_neither_ran_the_import_nor_is_admin(
    org, owner, member_api, owner_api, tmp_path
):
    job = run_import(org, owner, "contacts", tmp_path, [["Email"], ["a@x.com"], ["b@x.com"]])
    assert Contact.objects.filter(organization=org).count() == 2
    url = f"/api/v1/data-jobs/{job.pk}/undo/"
    assert member_api.get(url).status_code == 403
    assert member_api.post(url, {}, format="json").status_code == 403
    assert Contact.objects.filter(organization=org).count() == 2
    # Its starter (here an admin too) may.
    assert owner_api.post(url, {}, format="json").status_code == 200
    assert Contact.objects.filter(organization=org).count() == 0
