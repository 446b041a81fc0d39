"""The wizard's entry for one file with several record types: upload, proposed targets in
dependency order, a preview that writes nothing, one import job, org scoping, permissions.
The runs are queued: a real Huey consumer runs them while the page shows their progress."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from business.models import Customer, Product, SalesOrder, SalesOrderLine
from conftest import wait_for_job as _wait_for_job
from jobs.models import DataJob
from tests.wizard.test_engine import media_in_tmp  # noqa: F401
from tests.wizard.test_multi_import import ORDERS, _export


def wait_for_job(job):
    # A loaded machine can take a while to start the consumer: more room than the default.
    return _wait_for_job(job, timeout=180)


@pytest.fixture
def export(tmp_path):
    path = tmp_path / "sales-export.csv"
    return path, _export(path, lines=700)


def _upload(client, path, **data):
    file = SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv")
    return client.post(reverse("wizard:multi"), {"file": file, "on_duplicate": "skip", **data})


def test_it_links_the_several_types_page_from_the_import_start(member_client):
    page = member_client.get(reverse("wizard:start")).content.decode()
    assert reverse("wizard:multi") in page
    assert "A file with several record types" in page
    assert member_client.get(reverse("wizard:multi")).status_code == 200


def test_it_proposes_targets_in_order_and_previews_without_writing(
    member_client, org, export, huey_consumer
):
    path, expected = export
    response = _upload(member_client, path)
    assert response.status_code == 302, response.content.decode()[:2000]
    preview = DataJob.objects.get()
    assert preview.status in ("queued", "running", "completed")
    assert response["Location"] == reverse("wizard:multi_review", args=[preview.pk])
    preview = wait_for_job(preview)
    page = member_client.get(response["Location"]).content.decode()
    # Proposed in dependency order, each with its key column mapped, all ticked.
    positions = [
        page.index(f'data-target="{n}"') for n in ("customers", "products", "sales-orders")
    ]
    assert positions == sorted(positions)
    assert "Customer Code → Customer code" in page and "SKU → SKU" in page
    assert "Order Number → Order number" in page
    assert page.count('name="targets" value=') == 3 and page.count(" checked>") >= 3
    # Per-target counts of the dry run; nothing written.
    targets = preview.summary["targets"]
    assert targets["customers"]["would_create"] == expected["customers"]
    assert targets["sales-orders"]["would_create"] == ORDERS
    assert f'data-count="would_create">{expected["customers"]}<' in page
    assert f'data-count="would_create">{ORDERS}<' in page
    assert not Customer.objects.exists() and not Product.objects.exists()
    assert not SalesOrder.objects.exists()


def test_it_previews_again_with_fewer_targets(member_client, export, huey_consumer):
    path, _ = export
    first = wait_for_job(DataJob.objects.get(pk=_job_id(_upload(member_client, path))))
    response = member_client.post(
        reverse("wizard:multi_review", args=[first.pk]),
        {"targets": ["customers"], "on_duplicate": "skip", "action": "preview"},
    )
    again = DataJob.objects.exclude(pk=first.pk).get()
    assert response["Location"] == reverse("wizard:multi_review", args=[again.pk])
    # The stored file is read where it is: no copy made in the request.
    assert again.input_file.name == first.input_file.name
    again = wait_for_job(again)
    assert again.summary["order"] == ["customers"] and again.summary["dry_run"]
    assert not Customer.objects.exists()


def test_it_imports_each_record_once_and_lands_on_the_job(
    member_client, org, export, huey_consumer
):
    path, expected = export
    preview = wait_for_job(DataJob.objects.get(pk=_job_id(_upload(member_client, path))))
    response = member_client.post(
        reverse("wizard:multi_review", args=[preview.pk]),
        {
            "targets": ["customers", "products", "sales-orders"],
            "on_duplicate": "skip",
            "action": "import",
        },
    )
    job = DataJob.objects.exclude(pk=preview.pk).get()
    assert response["Location"] == reverse("wizard:multi_review", args=[job.pk])
    job = wait_for_job(job)
    assert job.status == "completed", job.error_message
    assert Customer.objects.filter(organization=org).count() == expected["customers"]
    assert Product.objects.filter(organization=org).count() == expected["products"]
    assert SalesOrder.objects.filter(organization=org).count() == ORDERS
    assert SalesOrderLine.objects.filter(order__organization=org).count() == expected["lines"]
    # The page reports what was written per target, with the job and its one undo.
    page = member_client.get(response["Location"]).content.decode()
    assert f'data-count="created">{expected["customers"]}<' in page
    assert f'data-count="created">{ORDERS}<' in page
    assert f'data-count="lines">{expected["lines"]}<' in page
    assert reverse("jobs:detail", args=[job.pk]) in page
    assert reverse("wizard:undo", args=[job.pk]) in page
    assert 'name="action"' not in page
    assert member_client.get(reverse("jobs:detail", args=[job.pk])).status_code == 200
    undo = member_client.get(reverse("wizard:undo", args=[job.pk]))
    assert undo.status_code == 200


def test_it_refuses_an_empty_choice_with_the_services_message(member_client, export, huey_consumer):
    path, _ = export
    preview = wait_for_job(DataJob.objects.get(pk=_job_id(_upload(member_client, path))))
    response = member_client.post(
        reverse("wizard:multi_review", args=[preview.pk]),
        {"on_duplicate": "skip", "action": "import"},
    )
    assert response.status_code == 400
    assert "Choose at least one record type to import." in response.content.decode()
    assert DataJob.objects.count() == 1


def test_it_hides_the_preview_and_job_from_another_organization(
    member_client, other_client, export
):
    path, _ = export
    preview = DataJob.objects.get(pk=_job_id(_upload(member_client, path)))
    url = reverse("wizard:multi_review", args=[preview.pk])
    assert other_client.get(url).status_code == 404
    data = {"targets": ["customers"], "on_duplicate": "skip", "action": "import"}
    assert other_client.post(url, data).status_code == 404
    assert not Customer.objects.exists()


def test_it_shows_the_refusal_to_a_member_who_may_not_import_one_type(
    member_client, member, org, export
):
    membership = member.memberships.get(organization=org)
    membership.revoked_permissions = ["can_import_salesorder"]
    membership.save()
    path, _ = export
    response = _upload(member_client, path)
    assert response.status_code == 403
    assert "may not import sales orders here." in response.content.decode()
    assert not DataJob.objects.exists() and not Customer.objects.exists()


def test_it_refuses_the_page_without_any_import_permission(viewer_client):
    assert viewer_client.get(reverse("wizard:multi")).status_code == 403


def _job_id(response) -> int:
    assert response.status_code == 302, response.content.decode()[:2000]
    return int(response["Location"].rstrip("/").rsplit("/", 1)[1])
