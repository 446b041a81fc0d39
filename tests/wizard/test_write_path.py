"""The write path end to end on 20k rows: the table, the row log, the change log and undo come
out exactly as the rules say, whatever the engine does to write faster (batched change log,
batches written by the writer process while the next is prepared, COPY on PostgreSQL).

The expected outcome is worked out here from the file's rules, row by row, not read back from
the engine: a write path that drops, doubles or misplaces a row fails.
"""

from __future__ import annotations

import datetime as dt
import os
from contextlib import suppress
from pathlib import Path

import pytest

from business.models import Account, Contact
from jobs.models import JobLogEntry
from tests.wizard.test_engine import csv_text, draft, media_in_tmp, run_import  # noqa: F401
from wizard.engine import ImportRun
from wizard.engine.params import ImportParams
from wizard.engine.pipeline import ProcessWriter
from wizard.engine.undo import changes_created_ids
from wizard.models import ImportChange
from wizard.readers import FileInfo, ReadOptions, rows_read
from wizard.services import import_run_now, import_undo

ROWS = 20_000
BATCH = 1_000
FIRST_ROW = 2  # the header is row 1
HEADERS = ["Email", "First name", "Company", "Birth date"]


def _birth(i: int) -> dt.date:
    return dt.date(1960, 1, 1) + dt.timedelta(days=i % 9000)


def _file() -> tuple[list[list[str]], dict[int, str]]:
    """The rows, and the column each invalid row's error is reported on."""
    rows, errors = [HEADERS], {}
    for i in range(ROWS):
        email, first = f"p{i}@x.com", f"F{i % 7}"
        company, birth = f"Co {i % 50}", _birth(i).isoformat()
        if i % 401 == 3:
            email = f"bad-{i}"
            errors[i] = "Email"
        elif i % 509 == 4:
            birth = "1990-02-31"
            errors[i] = "Birth date"
        elif i % 613 == 5 and (i - 1) not in errors:
            # Repeats the row before with another first name: a conflict (repeats: fail).
            email, company, birth = f"p{i - 1}@x.com", f"Co {(i - 1) % 50}", _birth(i - 1)
            birth, first = birth.isoformat(), "Dup"
            errors[i] = "First name"
        rows.append([email, first, company, birth])
    return rows, errors


def _table(org) -> dict[str, tuple]:
    return {
        c["email"]: (c["first_name"], c["account__name"], c["birth_date"], c["phone"], c["title"])
        for c in Contact.objects.filter(organization=org).values(
            "email", "first_name", "account__name", "birth_date", "phone", "title"
        )
    }


@pytest.fixture
def existing(org):
    """Every 10th contact is there already: half with other values (updated), half with the
    file's own (unchanged)."""
    accounts = {
        a.name: a
        for a in Account.objects.bulk_create(
            Account(organization=org, name=f"Co {n}") for n in range(50)
        )
    }
    contacts = []
    for i in range(0, ROWS, 10):
        if i % 20 == 0:
            contacts.append(
                Contact(
                    organization=org,
                    email=f"p{i}@x.com",
                    first_name=f"F{i % 7}",
                    account=accounts[f"Co {i % 50}"],
                    birth_date=_birth(i),
                    phone="0",
                )
            )
        else:
            contacts.append(
                Contact(organization=org, email=f"p{i}@x.com", first_name="Old", phone="0")
            )
    Contact.objects.bulk_create(contacts)
    return accounts


@pytest.mark.parametrize(
    "writers",
    [
        # Inside the test's transaction: one batch after the other, on the run's connection.
        pytest.param(0, marks=pytest.mark.django_db, id="one-batch-after-the-other"),
        # Committed for real: each batch written by the writer process, as in production.
        pytest.param(1, marks=pytest.mark.django_db(transaction=True), id="writer-process"),
    ],
)
def test_it_writes_logs_and_undoes_20k_rows_exactly(
    org, owner, tmp_path, settings, existing, monkeypatch, writers
):
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": BATCH}
    started = []
    real_init = ProcessWriter.__init__

    def init(writer, run):
        started.append(writer)
        real_init(writer, run)

    monkeypatch.setattr(ProcessWriter, "__init__", init)
    rows, errors = _file()
    before = _table(org)

    # What the rules say the import does, row by row.
    expected = dict(before)
    created, updated, unchanged = set(), set(), set()
    for i, (email, first, company, birth) in enumerate(rows[1:]):
        if i in errors:
            continue
        values = (first, company, dt.date.fromisoformat(birth))
        old = before.get(email)
        if old is None:
            created.add(email)
            expected[email] = (*values, "", "")
        elif old[:3] == values:
            unchanged.add(email)
        else:
            updated.add(email)
            expected[email] = (*values, old[3], old[4])

    job = run_import(org, owner, "contacts", tmp_path, rows, on_duplicate="update")

    assert job.status == "completed", job.error_message
    assert len(started) == writers
    s = job.summary
    assert (s["created"], s["updated"], s["skipped"], s["failed"]) == (
        len(created),
        len(updated),
        len(unchanged),
        len(errors),
    )
    assert (job.processed, job.succeeded, job.failed) == (
        ROWS,
        len(created) + len(updated),
        len(errors),
    )
    assert _table(org) == expected

    # The row log: one error per invalid row, on its column; nothing for the rows that went in.
    logged = set(JobLogEntry.objects.filter(job=job).values_list("row_number", "column", "level"))
    assert logged == {(i + FIRST_ROW, column, "error") for i, column in errors.items()}

    # The change log: the created records by batch (far fewer rows than records), the updated
    # ones one by one with the values they had.
    ids = dict(Contact.objects.filter(organization=org).values_list("email", "pk"))
    assert changes_created_ids(job=job) == sorted(ids[e] for e in created)
    assert ImportChange.objects.filter(job=job, action="created").count() <= ROWS // BATCH
    updates = ImportChange.objects.filter(job=job, action="updated")
    assert sorted(updates.values_list("object_id", flat=True)) == sorted(ids[e] for e in updated)
    assert all(c.before["first_name"] == "Old" for c in updates)

    # After the import, people edit two records and delete one.
    kept_new = Contact.objects.get(email=sorted(created)[10])
    kept_new.title = "Edited"
    kept_new.save()
    kept_old = Contact.objects.get(email=sorted(updated)[10])
    kept_old.first_name = "Mine"
    kept_old.save()
    gone = Contact.objects.get(email=sorted(created)[20])
    gone.delete()

    result = import_undo(job=job, user=owner)
    assert (result.deleted, result.restored, result.skipped_conflicts) == (
        len(created) - 2,
        len(updated) - 1,
        2,
    )
    undone = dict(before)
    undone[kept_new.email] = (*expected[kept_new.email][:4], "Edited")
    undone[kept_old.email] = ("Mine", *expected[kept_old.email][1:])
    assert _table(org) == undone
    # What was kept is still noted, so a forced undo can take it back; nothing else is.
    assert changes_created_ids(job=job) == [kept_new.pk]
    assert list(
        ImportChange.objects.filter(job=job, action="updated").values_list("object_id", flat=True)
    ) == [kept_old.pk]

    forced = import_undo(job=job, user=owner, force=True)
    assert (forced.deleted, forced.restored, forced.skipped_conflicts) == (1, 1, 0)
    assert _table(org) == before
    assert not ImportChange.objects.filter(job=job).exists()


def engine_run(job, path, **kwargs) -> ImportRun:
    """The engine's run of a draft's file, built here (not through the job's services) so a
    test can set what the services do not: ``overlap``, a progress of its own."""
    params = ImportParams.from_job(job)
    info = FileInfo.from_dict(params.file_info)
    return ImportRun(
        job=job,
        settings=params.settings(),
        headers=info.headers,
        source=rows_read(path, options=ReadOptions.from_dict(params.read), info=info),
        **kwargs,
    )


def writers_left() -> list[int]:
    """The writer processes (jobs/db_writer.py) this process started that are still there."""
    left = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        with suppress(OSError):
            for pid in (task / "children").read_text().split():
                with suppress(OSError):
                    if b"db_writer.py" in Path(f"/proc/{pid}/cmdline").read_bytes():
                        left.append(int(pid))
    return left


def test_it_stops_at_a_reading_error_found_ahead_after_writing_the_batches_before(
    org, owner, tmp_path, settings
):
    """The run meets the row limit after earlier batches: those are written, then the run stops
    with the limit's message, no writer process left (tests/wizard/test_overlap.py: the same
    with batches written by the writer process, compared)."""
    path = tmp_path / "over.csv"
    path.write_text("Email\n" + "".join(f"{i}@x.com\n" for i in range(9)), encoding="utf-8")
    job = draft(org, owner, "contacts", path)
    settings.FERRY = {**settings.FERRY, "MAX_IMPORT_ROWS": 7, "IMPORT_BATCH_SIZE": 2}
    job = import_run_now(job=job)
    assert job.status == "failed"
    assert "more than 7 data rows" in job.error_message
    # Three batches of two were read before the fourth went over: each committed on its own.
    assert sorted(Contact.objects.values_list("email", flat=True)) == [
        f"{i}@x.com" for i in range(6)
    ]
    assert not writers_left()
