"""The preview of a wide, messy file (issue 11, case 8): the problems panel counts each kind of
problem per column with its top values, each bulk fix changes the outcome, and the import is
not offered when no row is valid. A 10,000-row file is built here; previews run in-process."""

from __future__ import annotations

import csv

import pytest
from django.db.models import Count
from django.urls import reverse

from business.models import Account
from jobs.models import DataJob
from tests.wizard.test_wizard_views import run_now
from wizard import flow
from wizard.engine.params import ImportParams
from wizard.preview_problems import kind_of, preview_problems
from wizard.services import import_configure, import_create

pytestmark = pytest.mark.django_db

ROWS = 10_000
HEADERS = ["Email", "First name", "Last name", "Company", "Stage", "Birthday"]


def messy_file(path, rows: int = ROWS):
    """Every 10th row says 'Kunde' (German for customer), every 25th 'Interessent'; one in 20
    names an unknown company (5 of them); one in 50 an ambiguous one ('nova ag' matches 'Nova
    AG' and 'NOVA AG'); every 40th birthday is 'n/a'."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        for i in range(1, rows + 1):
            stage = "Kunde" if i % 10 == 0 else "Interessent" if i % 25 == 0 else "lead"
            company = "Globex"
            if i % 20 == 3:
                company = f"Acme {(i // 20) % 5}"
            elif i % 50 == 7:
                company = "nova ag"
            birthday = "n/a" if i % 40 == 1 else f"19{50 + i % 40}-0{1 + i % 9}-1{i % 9}"
            w.writerow([f"p{i}@example.com", f"First{i}", f"Last{i}", company, stage, birthday])
    return path


def expected():
    kunde = sum(1 for i in range(1, ROWS + 1) if i % 10 == 0)
    interessent = sum(1 for i in range(1, ROWS + 1) if i % 10 and i % 25 == 0)
    unknown = sum(1 for i in range(1, ROWS + 1) if i % 20 == 3)
    ambiguous = sum(1 for i in range(1, ROWS + 1) if i % 50 == 7)
    dates = sum(1 for i in range(1, ROWS + 1) if i % 40 == 1)
    return kunde, interessent, unknown, ambiguous, dates


@pytest.fixture
def messy(org, owner, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    for name in ("Globex", "Nova AG", "NOVA AG"):
        Account.objects.create(organization=org, name=name)
    path = messy_file(tmp_path / "messy.csv")
    with open(path, "rb") as fh:
        job = import_create(
            organization=org, user=owner, resource="contacts", file=fh, filename="messy.csv"
        )
    mapping = {
        "Email": "email",
        "First name": "first_name",
        "Last name": "last_name",
        "Company": "account",
        "Stage": "lifecycle_stage",
        "Birthday": "birth_date",
    }
    import_configure(job=job, mapping=mapping, options={"birth_date": {"date_format": "%Y-%m-%d"}})
    return job


def preview_now(job: DataJob) -> DataJob:
    flow.wizard_preview_start(job=job)
    job.refresh_from_db()
    return run_now(flow.preview_job(job))


def panel(job):
    preview = flow.preview_job(job)
    from business.resources import resource_get

    groups = preview_problems(job=job, preview=preview, resource=resource_get("contacts"))
    return {(g["column"], k["kind"]): k for g in groups for k in g["kinds"]}


def fix(client, job, **data):
    response = client.post(reverse("wizard:problem_fix", args=[job.pk]), data)
    assert response.status_code == 302, response.content[:500]
    job.refresh_from_db()
    preview = flow.preview_job(job)
    if preview is not None and preview.status == DataJob.Status.QUEUED:
        run_now(preview)
    return job


def test_it_counts_each_kind_of_problem_per_column_with_its_top_values(messy, owner_client):
    preview = preview_now(messy)
    kunde, interessent, unknown, ambiguous, dates = expected()
    found = panel(messy)
    stage = found[("Stage", "not_a_choice")]
    assert stage["count"] == kunde + interessent and stage["distinct"] == 2
    assert stage["values"] == [
        {"value": "Kunde", "count": kunde},
        {"value": "Interessent", "count": interessent},
    ]
    company = found[("Company", "missing_reference")]
    assert company["count"] == unknown and company["distinct"] == 5
    assert {a["action"] for a in company["actions"]} >= {"create_missing", "map_existing"}
    assert found[("Company", "ambiguous_reference")]["count"] == ambiguous
    assert found[("Birthday", "not_a_date")]["count"] == dates
    assert found[("Birthday", "not_a_date")]["values"] == [{"value": "n/a", "count": dates}]
    # Summed once by the database and kept with the finished preview.
    preview.refresh_from_db()
    assert "problems_panel" in preview.summary

    page = owner_client.get(reverse("wizard:preview", args=[messy.pk])).content.decode()
    assert "Problems by column" in page and "Map these values" in page
    assert "Ambiguous references" in page and "NOVA AG" in page and "Nova AG" in page
    assert "Jump to the next problem" in page
    # Each cell carries the kind, not the whole message, in its visible text.
    assert 'class="problem-chip" title="' in page

    only = owner_client.get(
        reverse("wizard:preview", args=[messy.pk]), {"kind": "not_a_date", "column": "Birthday"}
    )
    rows = list(only.context["table"].page.object_list)
    assert rows and all(r.record.row_number % 40 == 2 for r in rows)  # file line = row + 1


def test_it_fixes_each_problem_in_bulk(messy, owner_client):
    preview_now(messy)
    kunde, interessent, unknown, ambiguous, dates = expected()
    invalid = flow.preview_job(messy).summary["invalid"]

    # Map these values: Kunde → customer, Interessent → lead.
    fix(
        owner_client,
        messy,
        column="Stage",
        kind="not_a_choice",
        action="map_values",
        **{"from": ["Kunde", "Interessent"], "to": ["customer", "lead"]},
    )
    assert ImportParams.from_job(messy).options["lifecycle_stage"]["value_map"] == {
        "Kunde": "customer",
        "Interessent": "lead",
    }
    assert ("Stage", "not_a_choice") not in panel(messy)
    after_map = flow.preview_job(messy).summary["invalid"]
    assert after_map < invalid

    # Map to an existing record: the ambiguous 'nova ag' is 'Nova AG'.
    fix(
        owner_client,
        messy,
        column="Company",
        kind="ambiguous_reference",
        action="map_existing",
        value="nova ag",
        target="Nova AG",
    )
    assert ("Company", "ambiguous_reference") not in panel(messy)

    # Create the missing records.
    fix(owner_client, messy, column="Company", kind="missing_reference", action="create_missing")
    assert ("Company", "missing_reference") not in panel(messy)

    # Replace all: every 'n/a' birthday becomes a date.
    fix(
        owner_client,
        messy,
        column="Birthday",
        kind="not_a_date",
        action="replace_all",
        value="1970-01-01",
    )
    assert panel(messy) == {}
    summary = flow.preview_job(messy).summary
    assert summary["invalid"] == 0 and summary["would_create"] == ROWS


def test_it_ignores_a_column_skips_rows_and_sets_a_default(org, owner, owner_client, tmp_path):
    path = tmp_path / "few.csv"
    path.write_text(
        "Email,First name,Stage,Birthday\n"
        "a@x.com,Ann,lead,n/a\nb@x.com,,lead,1980-01-01\nc@x.com,Cy,Kunde,1980-01-01\n"
    )
    with open(path, "rb") as fh:
        job = import_create(
            organization=org, user=owner, resource="contacts", file=fh, filename="few.csv"
        )
    import_configure(
        job=job,
        mapping={
            "Email": "email",
            "First name": "first_name",
            "Stage": "lifecycle_stage",
            "Birthday": "birth_date",
        },
        rules={"first_name": {"required": True}},
        mode="atomic",
    )
    preview_now(job)
    assert set(panel(job)) == {
        ("Birthday", "not_a_date"),
        ("First name", "required"),
        ("Stage", "not_a_choice"),
    }
    fix(owner_client, job, column="Birthday", kind="not_a_date", action="ignore_column")
    assert "Birthday" not in ImportParams.from_job(job).mapping
    fix(owner_client, job, column="First name", kind="required", action="set_default", value="?")
    assert ImportParams.from_job(job).options["first_name"]["default"] == "?"
    assert set(panel(job)) == {("Stage", "not_a_choice")}
    fix(owner_client, job, column="Stage", kind="not_a_choice", action="skip_rows")
    params = ImportParams.from_job(job)
    assert params.mode == "skip-invalid" and params.extra["problem_skips"] == [
        ["Stage", "not_a_choice"]
    ]
    assert panel(job)[("Stage", "not_a_choice")]["skipped"]
    page = owner_client.get(reverse("wizard:run", args=[job.pk])).content.decode()
    assert "Will create 2, update 0, skip 1 invalid row." in page and "Start the import" in page


def test_it_does_not_offer_the_import_when_no_row_is_valid(org, owner, owner_client, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("Email,Stage\nnope,lead\nalso-bad,lead\n")
    with open(path, "rb") as fh:
        job = import_create(
            organization=org, user=owner, resource="contacts", file=fh, filename="bad.csv"
        )
    import_configure(job=job, mapping={"Email": "email", "Stage": "lifecycle_stage"})
    preview_now(job)
    run_page = owner_client.get(reverse("wizard:run", args=[job.pk])).content.decode()
    assert "No row is valid" in run_page and "Start the import" not in run_page
    preview_page = owner_client.get(reverse("wizard:preview", args=[job.pk])).content.decode()
    assert "No row is valid" in preview_page and "Continue to run" not in preview_page
    assert panel(job)[("Email", "invalid_email")]["count"] == 2


def test_it_refuses_a_fix_of_another_organizations_draft(messy, other_client):
    response = other_client.post(
        reverse("wizard:problem_fix", args=[messy.pk]),
        {"column": "Stage", "kind": "not_a_choice", "action": "skip_rows"},
    )
    assert response.status_code == 404


def test_it_names_the_kind_of_a_message_the_way_the_database_does():
    assert kind_of("'x' is not one of: Lead, Customer").name == "not_a_choice"
    assert kind_of("Row 3, column 'Company': no account with name 'Acme'").name == (
        "missing_reference"
    )
    assert kind_of("no account with name 'Acme' (tick 'create missing')").name == (
        "missing_reference"
    )
    assert kind_of("a value is required").name == "required"
    # A repeat with other values has its own heading, not the catch-all "problem".
    repeat = "e-mail 'a@x.com' is also on row 2 with another first name: 'Ann' there, 'Bo' here"
    assert kind_of(repeat).name == "repeat_conflict"


def test_it_sums_the_panel_when_the_preview_finishes_and_recounts_only_the_rows_fixed_by_hand(
    messy, owner_client
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wizard.services import import_row_edit

    preview = preview_now(messy)
    # The dry run left the sums and an empty list of edited rows: the first view sums nothing
    # and never reads every stored row to find edited ones.
    assert set(preview.summary["problems_panel"]) == {"groups", "top"}
    assert preview.summary["edited_rows"] == []
    kunde, interessent, *_ = expected()
    with CaptureQueriesContext(connection) as queries:
        owner_client.get(reverse("wizard:preview", args=[messy.pk]))
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [q for q in sql if "COUNT(DISTINCT" in q.upper()]
    # The stored rows are read a page at a time (or counted), never all of them for edits.
    rows = [q for q in sql if 'FROM "wizard_importrow"' in q]
    assert rows and all("LIMIT" in q or q.startswith("SELECT COUNT(") for q in rows), rows

    # Row 11 (file line) says 'Kunde': fixed by hand, it is listed and recounted.
    import_row_edit(job=messy, row_number=11, column="Stage", value="customer")
    preview.refresh_from_db()
    assert preview.summary["edited_rows"] == [11]
    stage = panel(messy)[("Stage", "not_a_choice")]
    assert stage["count"] == kunde + interessent - 1
    assert stage["values"][0] == {"value": "Kunde", "count": kunde - 1}
    # Fixed twice, listed once.
    import_row_edit(job=messy, row_number=11, column="Stage", value="lead")
    preview.refresh_from_db()
    assert preview.summary["edited_rows"] == [11]


def test_it_pages_the_preview_from_the_row_number_index(messy, owner_client):
    from wizard.models import ImportRow

    preview_now(messy)
    numbers = list(
        ImportRow.objects.filter(job=messy)
        .order_by("row_number")
        .values_list("row_number", flat=True)
    )
    last_page = (len(numbers) + 24) // 25
    for page in (1, 2, 200, last_page):
        response = owner_client.get(reverse("wizard:preview", args=[messy.pk]), {"page": page})
        table = response.context["table"]
        shown = [r.record.row_number for r in table.page.object_list]
        assert shown == numbers[(page - 1) * 25 : page * 25]
        assert table.paginator.num_pages == last_page
    assert len(shown) == len(numbers) - (last_page - 1) * 25


def test_it_groups_by_the_kind_the_engine_stored_and_reads_old_entries_by_their_text(messy):
    from jobs.models import JobLogEntry

    preview = preview_now(messy)
    kunde, interessent, unknown, ambiguous, dates = expected()
    kinds = dict(
        JobLogEntry.objects.filter(job=preview, level="error")
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    assert kinds == {
        "not_a_choice": kunde + interessent,
        "missing_reference": unknown,
        "ambiguous_reference": ambiguous,
        "not_a_date": dates,
    }
    # Entries written before the engine named kinds (kind null) are read from their message;
    # a stored kind wins over the text.
    JobLogEntry.objects.filter(job=preview, column="Stage").update(kind=None)
    JobLogEntry.objects.filter(job=preview, column="Birthday").update(kind="required")
    summary = dict(preview.summary)
    summary.pop("problems_panel")
    DataJob.objects.filter(pk=preview.pk).update(summary=summary)
    found = panel(messy)
    assert found[("Stage", "not_a_choice")]["count"] == kunde + interessent
    assert found[("Birthday", "required")]["count"] == dates
    assert ("Birthday", "not_a_date") not in found
