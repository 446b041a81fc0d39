"""An exported file re-imports cleanly through the import engine with the same resource."""

from __future__ import annotations

import datetime as dt

import pytest

from business.models import Contact
from jobs.models import DataJob
from jobs.services import JobProgress
from reports.exporters import export_create, export_run
from tests.factories import AccountFactory, ContactFactory
from wizard.services import import_configure, import_create, import_run_now

FIELDS = (
    "email",
    "first_name",
    "last_name",
    "phone",
    "title",
    "lifecycle_stage",
    "source",
    "do_not_email",
    "birth_date",
)


def snapshot(org) -> list[tuple]:
    return sorted(
        tuple(getattr(c, f) for f in FIELDS) + (c.account.name if c.account else None,)
        for c in Contact.objects.filter(organization=org).select_related("account")
    )


@pytest.fixture
def source_contacts(org):
    acme = AccountFactory(organization=org, name="Acme & Sons")
    ContactFactory(
        organization=org,
        email="zoe@example.com",
        first_name="Zoë",
        last_name="O'Brien, Jr.",
        # Values the CSV/XLSX writers neutralise against formula injection must come back as they were.
        phone="+33 1 42 68 53 00",
        title='The "boss"',
        lifecycle_stage="customer",
        source="Trade fair\nHall 3",
        do_not_email=True,
        birth_date=dt.date(1985, 2, 28),
        account=acme,
    )
    ContactFactory(
        organization=org,
        email="bob@example.com",
        first_name="Bob",
        last_name="Smith",
        title='=HYPERLINK("http://x","y")',
        source="@trade-show",
        lifecycle_stage="prospect",
        do_not_email=False,
        birth_date=None,
        account=None,
    )
    for i in range(20):
        ContactFactory(
            organization=org,
            email=f"p{i}@example.com",
            lifecycle_stage="lead",
            birth_date=dt.date(1990, 1, 1) + dt.timedelta(days=37 * i),
            account=acme if i % 3 == 0 else None,
        )


@pytest.mark.parametrize("format", ["csv", "xlsx", "json", "jsonl"])
def test_it_reimports_an_export_into_an_identical_set_of_records(
    format, org, owner, other_org, other_user, source_contacts, tmp_path
):
    job = export_create(organization=org, user=owner, exporter="contacts", format=format)
    job.refresh_from_db()
    export_run(job=job, progress=JobProgress(job))
    job.refresh_from_db()
    path = tmp_path / job.output_filename
    with job.output_file.open("rb") as src:
        path.write_bytes(src.read())

    with open(path, "rb") as fh:
        imported = import_create(
            organization=other_org,
            user=other_user,
            resource="contacts",
            file=fh,
            filename=path.name,
        )
    mapping = imported.params["mapping"]
    # Every exported column maps back to its own field, by label (CSV/XLSX) or name (JSON).
    assert sorted(mapping.values()) == sorted(
        [
            "email",
            "first_name",
            "last_name",
            "account",
            "phone",
            "title",
            "lifecycle_stage",
            "source",
            "do_not_email",
            "birth_date",
        ]
    )
    import_configure(job=imported, create_missing={"account": True})
    imported = import_run_now(job=imported)
    assert imported.status == DataJob.Status.COMPLETED, imported.error_message
    assert imported.failed == 0, list(imported.log_entries.values_list("message", flat=True)[:5])
    assert snapshot(other_org) == snapshot(org)
