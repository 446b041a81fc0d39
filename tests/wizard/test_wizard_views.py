"""The import wizard's pages, step by step, with the real engine underneath.

Dry runs and imports are run in-process here (``run_now``) so each step's page can be checked
right after; the browser test drives the same flow through a real Huey consumer.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from business.models import Account, Contact
from jobs.models import DataJob
from jobs.services import job_run
from library.models import DataTemplate
from tests.factories import AccountFactory, ContactFactory
from wizard.models import ImportRow

pytestmark = pytest.mark.django_db

CSV = (
    "Email;Prénom;Surname;Birthday\n"
    "ada@example.com;Ada;Lovelace;1815-12-10\n"
    "grace@example.com;Grace;Hopper;not-a-date\n"
    "alan@example.com;Alan;Turing;1912-06-23\n"
)
WITH_COMPANIES = (
    "Email;Prénom;Surname;Company\n"
    "ada@example.com;Ada;Lovelace;Analytical Engines\n"
    "grace@example.com;Grace;Hopper;Navy\n"
    "alan@example.com;Alan;Turing;Bletchley\n"
    "joan@example.com;Joan;Clarke;Bletchley\n"
)


def upload(name="contacts.csv", text=CSV, encoding="utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def run_now(job: DataJob) -> DataJob:
    """Run a queued import or preview job in this process (what the worker would do)."""
    from wizard.services import import_run

    job_run(job.pk, lambda j, progress: import_run(job=j, progress=progress))
    job.refresh_from_db()
    return job


def start(client, *, resource="contacts", file=None, **extra) -> DataJob:
    response = client.post(
        reverse("wizard:start"), {"resource": resource, "file": file or upload(), **extra}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return DataJob.objects.filter(job_type="import").exclude(params__dry_run=True).latest("pk")


def mapping_post(job: DataJob, mapping: dict[str, str], **extra) -> dict[str, str]:
    headers = job.params["file_info"]["headers"]
    data = {f"col_{i}": mapping.get(h, "") for i, h in enumerate(headers)}
    data.update(extra)
    return data


def preview_ready(client, job: DataJob) -> DataJob:
    response = client.post(
        reverse("wizard:map", args=[job.pk]), mapping_post(job, job.params["mapping"])
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    job.refresh_from_db()
    run_now(DataJob.objects.get(pk=job.params["preview_job_id"]))
    return job


def url(name: str, job: DataJob) -> str:
    return reverse(f"wizard:{name}", args=[job.pk])


# --- 1. upload -------------------------------------------------------------------------------


def test_it_offers_only_resources_the_user_may_import(member_client):
    response = member_client.get(reverse("wizard:start"), {"resource": "leads"})
    assert response.status_code == 200
    form = response.context["form"]
    choices = [value for value, _ in form.fields["resource"].choices]
    assert "contacts" in choices and "audit-events" not in choices
    assert form.initial == {"resource": "leads"}
    body = response.content.decode()
    assert "<h1>Import records</h1>" in body and 'for="id_file"' in body


def test_it_refuses_the_wizard_without_any_import_permission(viewer_client):
    assert viewer_client.get(reverse("wizard:start")).status_code == 403


def test_it_refuses_a_resource_the_user_may_not_import(member_client, member, org):
    membership = member.memberships.get(organization=org)
    membership.revoked_permissions = ["can_import_lead"]
    membership.save()
    response = member_client.post(reverse("wizard:start"), {"resource": "leads", "file": upload()})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not DataJob.objects.exists()


def test_it_stores_the_upload_as_a_draft_with_a_suggested_mapping(member_client, member):
    job = start(member_client)
    assert (job.status, job.user, job.target) == ("pending", member, "contacts")
    assert job.params["mapping"] == {
        "Email": "email",
        "Prénom": "first_name",
        "Surname": "last_name",
        "Birthday": "birth_date",
    }
    assert job.params["file_info"]["delimiter"] == ";"
    assert job.params["result_url"] == url("results", job)
    reasons = job.params["wizard"]["suggestions"]
    assert reasons["Email"][1] == "exact" and reasons["Prénom"][1] == "synonym"


def test_it_answers_a_script_upload_with_json(member_client):
    response = member_client.post(
        reverse("wizard:start"),
        {"resource": "contacts", "file": upload()},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    job = DataJob.objects.get()
    assert response.json() == {"redirect": url("map", job)}


@override_settings(FERRY={**settings.FERRY, "MAX_UPLOAD_BYTES": 50})
def test_it_refuses_an_oversize_file_next_to_the_file_control(member_client):
    response = member_client.post(
        reverse("wizard:start"),
        {"resource": "contacts", "file": upload()},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]["file"]
    assert "the limit is 50" in error["message"]
    assert not DataJob.objects.exists()


def test_it_refuses_an_unsupported_file_with_a_clear_message(member_client):
    response = member_client.post(
        reverse("wizard:start"),
        {"resource": "contacts", "file": SimpleUploadedFile("notes.docx", b"PK\x03\x04xx")},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "cannot read &#x27;.docx&#x27; files" in body
    assert 'id="id_file_error" role="alert"' in body
    assert 'aria-describedby="id_file_helptext id_file_error"' in body


def test_it_shows_the_readers_message_for_an_unreadable_file(member_client):
    response = member_client.post(
        reverse("wizard:start"),
        {
            "resource": "contacts",
            "file": SimpleUploadedFile("x.xlsx", b"PK\x03\x04" + bytes(range(256)) * 4),
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["file"]
    assert not DataJob.objects.exists()


def test_it_starts_from_a_chosen_template(member_client, org, owner):
    template = DataTemplate.objects.create(
        organization=org,
        created_by=owner,
        name="CRM",
        resource="contacts",
        is_shared=True,
        mapping={"Email": "email", "Surname": "notes"},
        options={"country": {"default": "FR"}},
        on_duplicate="update",
    )
    job = start(member_client, template=template.pk)
    assert job.params["template_id"] == template.pk
    assert job.params["mapping"]["Surname"] == "notes"
    assert job.params["on_duplicate"] == "update"
    template.refresh_from_db()
    assert template.last_used_at is not None
    body = member_client.get(url("map", job)).content.decode()
    assert "Using the template <strong>CRM</strong>" in body
    assert 'class="badge reason-template"' in body


def test_it_lists_drafts_to_continue(member_client):
    job = start(member_client)
    body = member_client.get(reverse("wizard:start")).content.decode()
    assert "Continue where you left off" in body and url("resume", job) in body


# --- 2. configure & map ----------------------------------------------------------------------


def test_it_shows_what_was_detected_samples_and_reasons(member_client):
    job = start(member_client)
    response = member_client.get(url("map", job))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<code>;</code>" in body and "Header row" in body
    assert '<span class="sample">Ada</span>' in body
    for reason in ("exact", "synonym"):
        assert f'class="badge reason-{reason}"' in body
    assert "Every required field is mapped." in body
    assert 'label for="id_col_0" class="visually-hidden"' in body


def test_it_flags_required_fields_left_unmapped(member_client):
    job = start(member_client)
    data = mapping_post(job, {"Prénom": "first_name"}, action="autosave")
    response = member_client.post(url("map", job), data, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "1 required field not mapped yet" in body and 'role="alert"' in body
    assert 'id="reason-0" hx-swap-oob="true"' in body


def test_it_saves_each_change_so_a_reload_keeps_it(member_client):
    job = start(member_client)
    data = mapping_post(
        job,
        {"Email": "email", "Surname": "notes"},
        action="autosave",
        opt_notes_value_map="Lovelace = LL",
    )
    member_client.post(url("map", job), data, HTTP_HX_REQUEST="true")
    job.refresh_from_db()
    assert job.params["mapping"] == {"Email": "email", "Surname": "notes"}
    assert job.params["options"] == {"notes": {"value_map": {"Lovelace": "LL"}}}
    body = member_client.get(url("map", job)).content.decode()
    assert 'class="badge reason-manual"' in body
    assert "Lovelace = LL" in body
    assert '<option value="notes" selected>' in body


def test_it_refuses_one_field_for_two_columns(member_client):
    job = start(member_client)
    data = mapping_post(job, {"Email": "email", "Surname": "email"}, action="continue")
    response = member_client.post(url("map", job), data)
    assert response.status_code == 400
    assert "already mapped from column" in response.content.decode()


def test_it_explains_a_malformed_value_map(member_client):
    job = start(member_client)
    data = mapping_post(job, job.params["mapping"], opt_email_value_map="no equals sign")
    response = member_client.post(url("map", job), data)
    assert response.status_code == 400
    assert "needs the form" in response.content.decode()


def test_it_does_not_continue_while_a_required_field_is_missing(member_client):
    job = start(member_client)
    response = member_client.post(url("map", job), mapping_post(job, {"Prénom": "first_name"}))
    assert response.status_code == 400
    job.refresh_from_db()
    assert "preview_job_id" not in job.params


def test_it_accepts_a_default_for_a_missing_required_field(member_client):
    job = start(member_client)
    data = mapping_post(job, {"Prénom": "first_name"}, opt_email_default="x@example.com")
    response = member_client.post(url("map", job), data)
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.params["options"]["email"] == {"default": "x@example.com"}


def test_it_reads_the_file_again_with_other_settings(member_client):
    job = start(member_client)
    response = member_client.post(
        url("map", job),
        {"action": "read", "encoding": "utf-8", "delimiter": ",", "header_row": 1},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.params["file_info"]["delimiter"] == ","
    assert len(job.params["file_info"]["headers"]) == 1
    assert "read again" in response.content.decode()


def test_it_continues_to_the_preview_and_starts_a_dry_run(member_client):
    job = start(member_client)
    response = member_client.post(url("map", job), mapping_post(job, job.params["mapping"]))
    assert response["Location"] == url("preview", job)
    job.refresh_from_db()
    child = DataJob.objects.get(pk=job.params["preview_job_id"])
    assert child.params["dry_run"] is True and child.status == "queued"
    body = member_client.get(url("preview", job)).content.decode()
    assert "Checking every row" in body and url("preview_status", job) in body


def test_it_saves_the_mapping_as_a_template(member_client, member):
    job = start(member_client)
    data = mapping_post(job, {"Email": "email", "Surname": "last_name"}, name="Weekly CRM")
    response = member_client.post(url("save_template", job), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Saved the template <strong>Weekly CRM</strong>" in response.content.decode()
    template = DataTemplate.objects.get(name="Weekly CRM")
    assert template.mapping == {"Email": "email", "Surname": "last_name"}
    assert (template.is_shared, template.created_by) == (False, member)
    job.refresh_from_db()
    assert job.params["template_id"] == template.pk
    again = member_client.post(url("save_template", job), data, HTTP_HX_REQUEST="true")
    assert again.status_code == 400
    assert "already exists" in again.content.decode()


def test_it_proposes_a_matching_template_and_applies_it(member_client, org, owner):
    template = DataTemplate.objects.create(
        organization=org,
        created_by=owner,
        name="Old CRM",
        resource="contacts",
        is_shared=True,
        mapping={"Email": "email", "Prénom": "first_name", "Surname": "notes", "Birthday": ""},
    )
    job = start(member_client)
    body = member_client.get(url("map", job)).content.decode()
    assert "looks like your template “Old CRM”" in body
    response = member_client.post(
        url("map", job), {"action": "apply-template", "template": template.pk}
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.params["template_id"] == template.pk
    assert job.params["mapping"]["Surname"] == "notes"
    assert "looks like your template" not in member_client.get(url("map", job)).content.decode()


# --- 3. preview ------------------------------------------------------------------------------


def test_it_shows_counts_and_highlights_the_invalid_cell(member_client):
    job = preview_ready(member_client, start(member_client))
    response = member_client.get(url("preview", job))
    body = response.content.decode()
    counts = response.context["counts"]
    assert (counts["new"], counts["invalid"]) == (2, 1)
    assert 'class="cell cell-error"' in body
    assert "not-a-date" in body
    assert "Fix row 3, column Birthday" in body


def test_it_filters_rows_with_problems(member_client):
    job = preview_ready(member_client, start(member_client))
    response = member_client.get(
        url("preview", job),
        {"problems": "1"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="preview-table",
    )
    rows = list(response.context["table"].page.object_list)
    assert [r.record.row_number for r in rows] == [3]
    assert "<h1>" not in response.content.decode()


def test_it_edits_an_invalid_cell_inline_and_refreshes_the_counts(member_client):
    job = preview_ready(member_client, start(member_client))
    edit = reverse("wizard:cell_edit", args=[job.pk, 3])
    form = member_client.get(edit, {"column": "Birthday"}, HTTP_HX_REQUEST="true")
    assert 'name="value"' in form.content.decode() and "not-a-date" in form.content.decode()
    response = member_client.post(
        edit, {"column": "Birthday", "value": "1906-12-09"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="row-3"' in body and "cell-error" not in body
    assert 'id="preview-counts" hx-swap-oob="true"' in body
    row = ImportRow.objects.get(job=job, row_number=3)
    assert (row.status, row.edits) == ("new", {"Birthday": "1906-12-09"})


def test_it_keeps_a_still_invalid_edit_highlighted(member_client):
    job = preview_ready(member_client, start(member_client))
    edit = reverse("wizard:cell_edit", args=[job.pk, 3])
    response = member_client.post(edit, {"column": "Birthday", "value": "31/31/2020"})
    assert "cell-error" in response.content.decode()
    assert ImportRow.objects.get(job=job, row_number=3).status == "invalid"


def test_it_shows_old_and_new_values_for_updates(member_client, org):
    from wizard.services import import_configure

    ContactFactory(organization=org, email="ada@example.com", first_name="Augusta")
    job = start(member_client)
    import_configure(job=job, on_duplicate="update")
    job = preview_ready(member_client, job)
    response = member_client.get(url("preview", job))
    assert response.context["counts"]["update"] == 1
    assert "<del>Augusta</del> → <ins>Ada</ins>" in response.content.decode()


def test_it_lists_unresolved_references_once_with_counts_and_actions(member_client, org):
    AccountFactory(organization=org, name="Navy Reserve")
    job = preview_ready(member_client, start(member_client, file=upload(text=WITH_COMPANIES)))
    response = member_client.get(url("preview", job))
    # Listed once, in the problems panel (no separate "Unknown references" card).
    unresolved = {
        (c["field"], v["value"]): v["count"]
        for c in response.context["problem_columns"]
        for k in c["kinds"]
        if k["kind"] == "missing_reference"
        for v in k["values"]
    }
    assert unresolved[("account", "Navy")] == 1
    assert unresolved[("account", "Bletchley")] == 2
    body = response.content.decode()
    assert "Unknown references" not in body
    assert "Create the missing records" in body
    assert 'aria-label="Existing account for “Navy”"' not in body  # a label element, below
    assert "Existing account for “Navy”" in body
    options = member_client.get(
        reverse("wizard:reference_options", args=[job.pk]), {"field": "account", "target": "navy"}
    )
    assert '<option value="Navy Reserve">' in options.content.decode()
    mapped = member_client.post(
        reverse("wizard:references", args=[job.pk]),
        {"field": "account", "value": "Navy", "action": "map", "target": "Navy Reserve"},
    )
    assert mapped.status_code == 302
    job.refresh_from_db()
    assert job.params["reference_map"] == {"account": {"Navy": "Navy Reserve"}}
    run_now(DataJob.objects.get(pk=job.params["preview_job_id"]))
    decided = member_client.get(url("preview", job))
    assert decided.context["reference_decisions"] == [
        {"field": "account", "label": "Account", "value": "Navy", "target": "Navy Reserve"}
    ]
    assert "Undo: Navy uses Navy Reserve" in decided.content.decode()
    member_client.post(
        reverse("wizard:references", args=[job.pk]),
        {"field": "account", "value": "Bletchley", "action": "create"},
    )
    job.refresh_from_db()
    assert job.params["create_missing"] == {"account": True}
    child = DataJob.objects.get(pk=job.params["preview_job_id"])
    assert child.status == "queued"


def test_it_refuses_mapping_to_a_record_that_does_not_exist(member_client):
    job = preview_ready(member_client, start(member_client, file=upload(text=WITH_COMPANIES)))
    member_client.post(
        reverse("wizard:references", args=[job.pk]),
        {"field": "account", "value": "Navy", "action": "map", "target": "Nowhere Inc"},
    )
    job.refresh_from_db()
    assert job.params["reference_map"] == {}


def test_it_goes_back_to_the_mapping_without_losing_anything(member_client):
    job = preview_ready(member_client, start(member_client))
    mapping = dict(job.params["mapping"])
    response = member_client.get(url("map", job))
    assert response.status_code == 200
    assert response.context["form"].initial["col_0"] == mapping["Email"]
    job.refresh_from_db()
    assert job.params["mapping"] == mapping
    # Back to the preview: still there, nothing re-run.
    assert member_client.get(url("preview", job)).context["counts"]["new"] == 2


def test_it_resumes_a_draft_at_its_step(member_client):
    job = start(member_client)
    assert member_client.get(url("resume", job))["Location"] == url("map", job)
    job = preview_ready(member_client, job)
    assert member_client.get(url("resume", job))["Location"] == url("preview", job)


# --- 4. run and 5. results -------------------------------------------------------------------


def test_it_starts_the_import_and_shows_progress(member_client):
    job = preview_ready(member_client, start(member_client))
    page = member_client.get(url("run", job))
    assert "The preview found 2 new" in page.content.decode()
    response = member_client.post(url("run", job), {"on_duplicate": "skip", "mode": "skip-invalid"})
    assert response["Location"] == url("run", job)
    job.refresh_from_db()
    assert job.status == "queued"
    body = member_client.get(url("run", job)).content.decode()
    assert "Waiting for a worker" in body and "Cancel the import" in body
    status = member_client.get(url("run_status", job), HTTP_HX_REQUEST="true")
    assert "Rows processed" in status.content.decode()
    # A started import can no longer be re-mapped; its steps lead to the run page.
    assert member_client.get(url("map", job))["Location"] == url("run", job)


def test_it_cancels_a_queued_import(member_client):
    job = preview_ready(member_client, start(member_client))
    member_client.post(url("run", job), {"on_duplicate": "skip", "mode": "skip-invalid"})
    member_client.post(url("cancel", job))
    job.refresh_from_db()
    assert job.status == "cancelled"


def test_it_shows_results_downloads_and_undoes_the_import(member_client, org):
    job = preview_ready(member_client, start(member_client))
    member_client.post(url("run", job), {"on_duplicate": "skip", "mode": "skip-invalid"})
    job = run_now(DataJob.objects.get(pk=job.pk))
    assert job.status == "completed"
    status = member_client.get(url("run_status", job), HTTP_HX_REQUEST="true")
    assert status.status_code == 286 and status["HX-Redirect"] == url("results", job)
    response = member_client.get(url("results", job))
    body = response.content.decode()
    assert response.context["counts"]["created"] == 2
    assert response.context["counts"]["failed"] == 1
    assert reverse("jobs:download", args=[job.pk, "failed-rows"]) in body
    assert reverse("jobs:download", args=[job.pk, "input"]) in body
    assert "/records/contacts/" in body
    assert "not-a-date" in body  # the row log
    failed = member_client.get(reverse("jobs:download", args=[job.pk, "failed-rows"]))
    content = b"".join(failed.streaming_content).decode("utf-8-sig")
    assert "grace@example.com" in content and "error" in content.splitlines()[0]
    assert Contact.objects.filter(organization=org).count() == 2
    confirm = member_client.get(url("undo", job))
    assert "Yes, undo this import" in confirm.content.decode()
    assert member_client.post(url("undo", job)).status_code == 302
    assert Contact.objects.filter(organization=org).count() == 0
    after = member_client.get(url("results", job)).content.decode()
    assert "This import was undone" in after and "Undo this import…" not in after


def test_it_warns_about_records_edited_since_the_import(member_client, org):
    job = preview_ready(member_client, start(member_client))
    member_client.post(url("run", job), {"on_duplicate": "skip", "mode": "skip-invalid"})
    job = run_now(DataJob.objects.get(pk=job.pk))
    ada = Contact.objects.get(organization=org, email="ada@example.com")
    ada.first_name = "Augusta Ada"
    ada.save()
    confirm = member_client.get(url("undo", job)).content.decode()
    assert "1 record is left alone" in confirm
    assert "Contact &#x27;ada@example.com&#x27; was changed after the import" in confirm
    member_client.post(url("undo", job))
    assert list(Contact.objects.filter(organization=org).values_list("email", flat=True)) == [
        "ada@example.com"
    ]
    body = member_client.get(url("results", job)).content.decode()
    assert "was kept" in body or "were kept" in body or "kept:" in body
    member_client.post(url("undo", job), {"force": "on"})
    assert not Contact.objects.filter(organization=org).exists()


def test_it_sends_an_unfinished_import_from_results_to_its_step(member_client):
    job = start(member_client)
    assert member_client.get(url("results", job))["Location"] == url("map", job)


# --- organization and permission -------------------------------------------------------------

STEP_URLS = [
    ("resume", "get"),
    ("map", "get"),
    ("map", "post"),
    ("save_template", "post"),
    ("preview", "get"),
    ("preview", "post"),
    ("preview_status", "get"),
    ("references", "post"),
    ("run", "get"),
    ("run", "post"),
    ("run_status", "get"),
    ("cancel", "post"),
    ("results", "get"),
    ("undo", "get"),
    ("undo", "post"),
]


@pytest.mark.parametrize(("name", "method"), STEP_URLS)
def test_it_answers_404_for_another_organizations_draft(member_client, other_client, name, method):
    job = start(member_client)
    response = getattr(other_client, method)(url(name, job))
    assert response.status_code == 404
    job.refresh_from_db()
    assert job.status == "pending"


@pytest.mark.parametrize(("name", "method"), STEP_URLS)
def test_it_answers_403_without_the_import_permission(member_client, viewer_client, name, method):
    job = start(member_client)
    response = getattr(viewer_client, method)(url(name, job))
    assert response.status_code == 403


def test_it_answers_404_for_another_organizations_preview_row(member_client, other_client):
    job = preview_ready(member_client, start(member_client))
    edit = reverse("wizard:cell_edit", args=[job.pk, 3])
    assert other_client.post(edit, {"column": "Birthday", "value": "x"}).status_code == 404
    assert ImportRow.objects.get(job=job, row_number=3).edits == {}


def test_it_does_not_treat_a_preview_job_as_a_draft(member_client):
    job = preview_ready(member_client, start(member_client))
    child_id = job.params["preview_job_id"]
    assert member_client.get(reverse("wizard:map", args=[child_id])).status_code == 404


def test_it_keeps_accounts_untouched_by_a_dry_run(member_client, org):
    preview_ready(member_client, start(member_client))
    assert not Account.objects.filter(organization=org).exists()
    assert not Contact.objects.filter(organization=org).exists()


def test_it_serialises_the_upload_errors_for_the_script(member_client):
    response = member_client.post(
        reverse("wizard:start"), {"resource": ""}, HTTP_X_REQUESTED_WITH="XMLHttpRequest"
    )
    errors = json.loads(response.content)["errors"]
    assert set(errors) == {"resource", "file"}


# --- more behaviour --------------------------------------------------------------------------


def test_it_polls_the_preview_and_reloads_once_it_is_done(member_client):
    job = start(member_client)
    member_client.post(url("map", job), mapping_post(job, job.params["mapping"]))
    job.refresh_from_db()
    polling = member_client.get(url("preview_status", job), HTTP_HX_REQUEST="true")
    assert "Checking every row" in polling.content.decode()
    assert 'role="progressbar"' in polling.content.decode()
    run_now(DataJob.objects.get(pk=job.params["preview_job_id"]))
    done = member_client.get(url("preview_status", job), HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"


def test_it_pages_the_preview_over_stored_rows_without_the_file(member_client):
    lines = ["Email;Surname"] + [f"p{n}@example.com;Person {n}" for n in range(60)]
    job = preview_ready(member_client, start(member_client, file=upload(text="\n".join(lines))))
    # The pages must not need the upload any more: remove it from storage.
    job.input_file.storage.delete(job.input_file.name)
    first = member_client.get(url("preview", job))
    assert first.context["counts"]["new"] == 60
    page3 = member_client.get(
        url("preview", job), {"page": 3}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="preview-table"
    )
    rows = [r.record.row_number for r in page3.context["table"].page.object_list]
    assert rows == list(range(52, 62))
    assert "Page 3 of 3" in page3.content.decode()


def test_it_saves_date_and_number_formats_per_field(member_client):
    job = start(member_client)
    data = mapping_post(
        job,
        job.params["mapping"],
        action="autosave",
        opt_birth_date_date_format="%d/%m/%Y",
        opt_birth_date_default="2000-01-01",
    )
    member_client.post(url("map", job), data, HTTP_HX_REQUEST="true")
    job.refresh_from_db()
    assert job.params["options"]["birth_date"] == {
        "date_format": "%d/%m/%Y",
        "default": "2000-01-01",
    }


def test_it_refuses_a_template_for_another_resource(member_client, org, owner):
    template = DataTemplate.objects.create(
        organization=org, created_by=owner, name="Leads", resource="leads", is_shared=True
    )
    response = member_client.post(
        reverse("wizard:start"),
        {"resource": "contacts", "template": template.pk, "file": upload()},
    )
    assert response.status_code == 400
    assert "imports leads, not contacts" in response.content.decode()


def test_it_does_not_offer_another_organizations_template(member_client, other_org, other_user):
    template = DataTemplate.objects.create(
        organization=other_org,
        created_by=other_user,
        name="Theirs",
        resource="contacts",
        is_shared=True,
    )
    response = member_client.post(
        reverse("wizard:start"),
        {"resource": "contacts", "template": template.pk, "file": upload()},
    )
    assert response.status_code == 400
    assert not DataJob.objects.exists()


def test_it_offers_order_line_fields_for_an_orders_file(member_client):
    text = "Order No;Customer;Order date;SKU;Qty;Unit price\nSO-1;C1;2024-05-01;A-1;2;9.50\n"
    job = start(member_client, resource="sales-orders", file=upload(text=text))
    assert job.params["mapping"]["Qty"] == "quantity"
    body = member_client.get(url("map", job)).content.decode()
    assert '<optgroup label="Order lines">' in body
    assert job.params["wizard"]["suggestions"]["Qty"][0] == "quantity"


def test_it_lets_only_the_importer_or_an_admin_undo(
    member_client, manager_client, owner_client, org
):
    job = preview_ready(member_client, start(member_client))
    member_client.post(url("run", job), {"on_duplicate": "skip", "mode": "skip-invalid"})
    job = run_now(DataJob.objects.get(pk=job.pk))
    assert "Undo this import…" not in manager_client.get(url("results", job)).content.decode()
    assert manager_client.post(url("undo", job)).status_code == 403
    assert Contact.objects.filter(organization=org).count() == 2
    assert owner_client.post(url("undo", job)).status_code == 302
    assert not Contact.objects.filter(organization=org).exists()


def test_it_pages_rows_with_problems_without_counting_them(member_client):
    # "Birth date" is the field's own name: mapped whatever the values (a synonym would not be).
    lines = ["Email;Birth date"] + [f"p{n}@example.com;bad-{n}" for n in range(30)]
    job = preview_ready(member_client, start(member_client, file=upload(text="\n".join(lines))))
    first = member_client.get(url("preview", job), {"problems": "1"})
    body = first.content.decode()
    assert len(first.context["table"].page.object_list) == 25
    assert "problems=1&amp;page=2" in body and "Page 1<" in body
    second = member_client.get(url("preview", job), {"problems": "1", "page": 2})
    assert [r.record.row_number for r in second.context["table"].page.object_list] == list(
        range(27, 32)
    )


def test_it_switches_to_another_sheet_of_a_workbook(member_client, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Notes"
    wb.active.append(["Remark"])
    wb.active.append(["ignore me"])
    people = wb.create_sheet("People")
    people.append(["Email", "Surname"])
    people.append(["ada@example.com", "Lovelace"])
    path = tmp_path / "book.xlsx"
    wb.save(path)
    job = start(member_client, file=SimpleUploadedFile("book.xlsx", path.read_bytes()))
    page = member_client.get(url("map", job)).content.decode()
    assert '<option value="People">People</option>' in page
    response = member_client.post(
        url("map", job), {"action": "read", "sheet": "People", "header_row": 1}
    )
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.params["file_info"]["headers"] == ["Email", "Surname"]
    assert job.params["mapping"] == {"Email": "email", "Surname": "last_name"}
    assert job.params["wizard"]["suggestions"]["Surname"][1] == "synonym"


def test_it_reads_a_json_lines_upload(member_client):
    text = '{"email": "ada@example.com", "name": {"first": "Ada"}}\n{"email": "x@example.com"}\n'
    job = start(member_client, file=upload(name="people.jsonl", text=text))
    assert job.params["file_info"]["format"] == "jsonl"
    body = member_client.get(url("map", job)).content.decode()
    assert 'name="header_row"' not in body and 'name="delimiter"' not in body
    assert job.params["mapping"]["email"] == "email"


@override_settings(FERRY={**settings.FERRY, "MAX_CONCURRENT_IMPORTS": 0})
def test_it_explains_a_refused_start_and_keeps_the_preview(member_client):
    job = start(member_client)
    with override_settings(FERRY={**settings.FERRY, "MAX_CONCURRENT_IMPORTS": 3}):
        job = preview_ready(member_client, job)
    response = member_client.post(url("run", job), {"on_duplicate": "skip", "mode": "skip-invalid"})
    assert response.status_code == 400
    assert "imports queued or running" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "pending" and job.params.get("preview_job_id")


def test_it_stops_a_running_preview_when_the_mapping_changes(member_client):
    job = start(member_client)
    member_client.post(url("map", job), mapping_post(job, job.params["mapping"]))
    job.refresh_from_db()
    child = DataJob.objects.get(pk=job.params["preview_job_id"])
    data = mapping_post(job, {"Email": "email"}, action="autosave")
    member_client.post(url("map", job), data, HTTP_HX_REQUEST="true")
    child.refresh_from_db()
    assert child.status == "cancelled"
    body = member_client.get(url("preview", job)).content.decode()
    assert "Start the preview" in body


def test_it_offers_to_restart_a_cancelled_preview(member_client):
    job = start(member_client)
    member_client.post(url("map", job), mapping_post(job, job.params["mapping"]))
    member_client.post(url("cancel", job))
    job.refresh_from_db()
    assert DataJob.objects.get(pk=job.params["preview_job_id"]).status == "cancelled"
    body = member_client.get(url("preview", job)).content.decode()
    assert "The preview was cancelled" in body
