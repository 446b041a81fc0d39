"""Batches written by the writer process (wizard/engine/pipeline.py, jobs/db_writer.py) while
the run prepares the next: the outcome is the one of a run that does one batch after the
other, down to each batch's checkpoint, and a failure anywhere leaves exactly the batches
before it.

These tests run outside a test transaction (the writer has a connection of its own, which
would not see the rows of a transaction the test holds open).
"""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection

from business.models import Account, Contact
from jobs.errors import JobCancelled
from jobs.models import JobLogEntry
from jobs.writer_process import capturing
from tests.wizard.test_engine import csv_text, draft, media_in_tmp  # noqa: F401
from tests.wizard.test_write_path import engine_run, writers_left
from wizard.engine import ImportRun, pipeline
from wizard.engine.writing import InstanceFactory
from wizard.models import ImportChange

pytestmark = pytest.mark.django_db(transaction=True)
HEADERS = ["Email", "First name", "Company", "Birth date"]


def _rows(n: int = 40) -> list[list[str]]:
    rows = [HEADERS]
    for i in range(n):
        email = f"p{i}@x.com" if i % 7 else f"bad{i}"
        company = f"Co {i % 3}" if i % 11 else "Nowhere Ltd"  # not an account: unresolved
        birth = "2001-02-03" if i % 9 else "2001-02-31"
        first = f"F{i}"
        if i % 13 == 12:  # repeats the row before: merged when equal, else a conflict
            email, company, birth = rows[-1][0], rows[-1][2], rows[-1][3]
            first = rows[-1][1] if i % 2 else "Other"
        rows.append([email, first, company, birth])
    return rows


@pytest.fixture
def accounts(org):
    Account.objects.bulk_create(Account(organization=org, name=f"Co {n}") for n in range(3))


class _Writers:
    """Counts the writer processes started, and keeps each checkpoint the run commits."""

    def __init__(self, monkeypatch):
        self.started = 0
        self.checkpoints: list[dict] = []
        writer_class = pipeline.ProcessWriter
        real_init = writer_class.__init__
        real_write = ImportRun.checkpoint_write

        def init(writer, run):
            self.started += 1
            real_init(writer, run)

        def write(run, checkpoint):
            # A count at zero is no count (a resumed run reads them into a Counter).
            counts = {k: v for k, v in checkpoint["counts"].items() if v}
            self.checkpoints.append({**checkpoint, "counts": counts})
            real_write(run, checkpoint)

        monkeypatch.setattr(writer_class, "__init__", init)
        monkeypatch.setattr(ImportRun, "checkpoint_write", write)


def _run(org, owner, tmp_path, rows, *, overlap, name, settings=None, limit=None, **configure):
    path = tmp_path / f"{name}.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    job = draft(org, owner, "contacts", path, **configure)
    if limit is not None:  # the file grew past the limit after it was checked on upload
        settings.FERRY = {**settings.FERRY, "MAX_IMPORT_ROWS": limit}
    run = engine_run(job, path, overlap=overlap)
    try:
        summary = run.execute()
        error = None
    except Exception as exc:  # noqa: BLE001 - compared between the two ways
        summary, error = None, exc
    failed = run.failed.close()
    failed_text = open(failed, encoding="utf-8").read() if failed else ""  # noqa: SIM115
    return job, summary, error, failed_text


def _outcome(org, job) -> dict:
    job.refresh_from_db()
    return {
        "table": sorted(
            Contact.objects.filter(organization=org).values_list(
                "email", "first_name", "account__name", "birth_date"
            )
        ),
        "log": sorted(
            JobLogEntry.objects.filter(job=job).values_list(
                "row_number", "column", "value", "message", "level"
            )
        ),
        "changes": sorted(
            (c.action, c.resource, len(c.ids or []) or 1)
            for c in ImportChange.objects.filter(job=job)
        ),
        "job": (job.processed, job.succeeded, job.failed, job.skipped),
    }


def _insert_refusing(error: Exception, when):
    """``InstanceFactory.insert`` raising ``error`` for the batches ``when(rows)`` picks."""
    real = InstanceFactory.insert

    def insert(self, rows, *, now, staged=None):
        if when(rows):
            raise error
        return real(self, rows, now=now, staged=staged)

    return insert


def _both_with_insert(org, owner, tmp_path, settings, monkeypatch, insert, name) -> list[dict]:
    """The same import (batches of four) with the writer process, then one batch after the
    other, ``InstanceFactory.insert`` replaced by ``insert`` for each: what each way did."""
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 4}
    results = []
    for overlap in (True, False):
        _reset(org)
        monkeypatch.setattr(InstanceFactory, "insert", insert)
        writers = _Writers(monkeypatch)
        job, summary, error, failed = _run(
            org, owner, tmp_path, _rows(), overlap=overlap, name=f"{name}{overlap}"
        )
        results.append(
            {
                "started": writers.started,
                "checkpoints": writers.checkpoints,
                "summary": summary,
                "failed": failed,
                "error": error,
                "outcome": _outcome(org, job),
            }
        )
        monkeypatch.undo()
    return results


def _taken_over_at_third_checkpoint():
    """``ImportRun.checkpoint_write`` whose third call finds the job given to another worker
    (its attempt moved on), as a worker taken for dead does."""
    calls = {"n": 0}
    real = ImportRun.checkpoint_write

    def checkpoint_write(run, checkpoint):
        calls["n"] += 1
        if calls["n"] == 3:
            # The run's attempt is no longer the job's. Not written to the job's row here: on
            # SQLite the writer process holds the write lock while the checkpoint is made.
            run.job.attempt += 1
        real(run, checkpoint)

    return checkpoint_write


def _stops_after_two_batches(org, owner, tmp_path, settings, name, checkpoint_write, error):
    """Import the rows in batches of four with the writer process and
    ``ImportRun.checkpoint_write`` replaced (its third call makes the run fail with ``error``):
    exactly the first two batches stay. The job."""
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 4}
    path = tmp_path / f"{name}.csv"
    path.write_text(csv_text(_rows()), encoding="utf-8")
    job = draft(org, owner, "contacts", path)
    Contact.objects.all().delete()
    real = ImportRun.checkpoint_write
    ImportRun.checkpoint_write = checkpoint_write
    try:
        run = engine_run(job, path, overlap=True)
        with pytest.raises(error):
            run.execute()
        run.failed.close()
    finally:
        ImportRun.checkpoint_write = real
    job.refresh_from_db()
    assert job.checkpoint["rows"] == 8
    written = set(Contact.objects.values_list("email", flat=True))
    assert written and all(int(e[1:].split("@")[0]) < 8 for e in written if e.startswith("p"))
    assert not writers_left()
    return job


def _reset(org):
    """Every fifth contact is there already, with another first name: updated."""
    Contact.objects.filter(organization=org).delete()
    Contact.objects.bulk_create(
        Contact(organization=org, email=f"p{i}@x.com", first_name="Old") for i in range(0, 40, 5)
    )


def _both(org, owner, tmp_path, settings, monkeypatch, rows, limit=None, **configure):
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 4}
    results = []
    for overlap in (True, False):
        _reset(org)
        writers = _Writers(monkeypatch)
        job, summary, error, failed = _run(
            org,
            owner,
            tmp_path,
            rows,
            overlap=overlap,
            name=f"o{overlap}",
            settings=settings,
            limit=limit,
            **configure,
        )
        settings.FERRY = {**settings.FERRY, "MAX_IMPORT_ROWS": 10**6}
        results.append(
            {
                "writers": writers.started,
                "checkpoints": writers.checkpoints,
                "summary": summary,
                "error": repr(error),
                "failed": failed,
                **_outcome(org, job),
            }
        )
        monkeypatch.undo()
    assert not writers_left()
    return results


def test_it_writes_in_the_writer_process_with_the_outcome_of_one_batch_after_the_other(
    org, owner, tmp_path, settings, monkeypatch, accounts
):
    overlapped, serial = _both(
        org, owner, tmp_path, settings, monkeypatch, _rows(), on_duplicate="update"
    )
    assert (overlapped["writers"], serial["writers"]) == (1, 0)
    for key in ("summary", "error", "failed", "table", "log", "changes", "job"):
        assert overlapped[key] == serial[key], key
    # Each batch's checkpoint counts that batch and the ones before, never the next one the
    # run had prepared meanwhile (a resumed run would count it twice).
    assert overlapped["checkpoints"] == serial["checkpoints"]
    assert len(serial["checkpoints"]) == 10
    s = serial["summary"]
    assert s["created"] and s["updated"] and s["failed"] and s["repeats_merged"]
    assert s["unresolved"], "the unresolved company is tallied"


def test_a_batch_the_database_refuses_fails_its_rows_alike(
    org, owner, tmp_path, settings, monkeypatch, accounts
):
    insert = _insert_refusing(
        DatabaseError("value too long for type character varying(1)"),
        lambda rows: any(r.get("email") == "p17@x.com" for r in rows),
    )
    overlapped, serial = [
        (w["started"], w["checkpoints"], w["summary"], w["failed"], w["outcome"])
        for w in _both_with_insert(org, owner, tmp_path, settings, monkeypatch, insert, "r")
    ]
    assert (overlapped[0], serial[0]) == (1, 0)
    assert overlapped[1:] == serial[1:]
    assert "could not be saved: value too long" in overlapped[3]
    assert not Contact.objects.filter(email="p17@x.com").exists()
    assert Contact.objects.filter(email="p23@x.com").exists()  # the next batch is written


def test_a_reading_error_commits_the_batches_before_it_alike(
    org, owner, tmp_path, settings, monkeypatch, accounts
):
    overlapped, serial = _both(org, owner, tmp_path, settings, monkeypatch, _rows(20), limit=10)
    assert "more than 10 data rows" in overlapped["error"]
    for key in ("error", "table", "log", "changes", "job", "checkpoints"):
        assert overlapped[key] == serial[key], key
    assert len(overlapped["checkpoints"]) == 2  # two batches of four, then the limit


def test_a_cancel_commits_the_batch_in_flight_and_stops(org, owner, tmp_path, settings, accounts):
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 4}
    path = tmp_path / "cancel.csv"
    path.write_text(csv_text(_rows()), encoding="utf-8")
    job = draft(org, owner, "contacts", path)

    class Progress:
        checks = 0

        def set_total(self, total):
            pass

        def update(self, **counts):
            pass

        def check_cancel(self, force=False):
            self.checks += 1
            if self.checks == 4:
                raise JobCancelled()

    run = engine_run(job, path, progress=Progress(), overlap=True)
    with pytest.raises(JobCancelled):
        run.execute()
    run.failed.close()
    job.refresh_from_db()
    # Three batches were read and prepared before the fourth's cancel: all three committed.
    assert job.checkpoint["rows"] == 12
    assert job.processed == 12
    assert not writers_left()


def test_a_failure_while_writing_rolls_back_that_batch_only(
    org, owner, tmp_path, settings, accounts
):
    """A writer that fails (here: the job was given to another worker) leaves the batches it
    committed and nothing of the one it was writing; the run raises the writer's error."""
    from jobs.errors import JobTakenOver

    checkpoint_write = _taken_over_at_third_checkpoint()
    _stops_after_two_batches(
        org, owner, tmp_path, settings, "taken", checkpoint_write, JobTakenOver
    )


def test_a_batch_that_clashes_with_someone_elses_write_is_written_row_by_row_alike(
    org, owner, tmp_path, settings, monkeypatch, accounts
):
    """The writer's batch meets a key someone else wrote meanwhile (IntegrityError): its rows
    are written one at a time, in the batch's transaction, as one batch after the other does."""
    from django.db import IntegrityError

    insert = _insert_refusing(
        IntegrityError("duplicate key value violates unique constraint"),
        lambda rows: len(rows) > 1 and any(r.get("email") == "p17@x.com" for r in rows),
    )
    overlapped, serial = [
        (w["started"], w["checkpoints"], w["summary"], w["failed"], w["outcome"])
        for w in _both_with_insert(org, owner, tmp_path, settings, monkeypatch, insert, "c")
    ]
    assert (overlapped[0], serial[0]) == (1, 0)
    assert overlapped[1:] == serial[1:]
    assert Contact.objects.filter(email="p17@x.com").exists()


class _Progress:
    """A job's progress that keeps each update and the thread that made it."""

    def __init__(self):
        self.updates: list[tuple[str, dict]] = []

    def set_total(self, total):
        pass

    def check_cancel(self, force=False):
        pass

    def update(self, force=False, stored=False, **counts):
        self.updates.append((threading.current_thread().name, counts))


def test_the_progress_shows_committed_batches_only_from_the_runs_thread(
    org, owner, tmp_path, settings, monkeypatch, accounts
):
    """Each batch's counts reach the job's progress once its checkpoint is committed, in the
    order of the checkpoints, from the run's thread; a batch the writer could not commit is
    never shown."""
    from jobs.errors import JobTakenOver

    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 4}
    path = tmp_path / "progress.csv"
    path.write_text(csv_text(_rows()), encoding="utf-8")
    _reset(org)
    job = draft(org, owner, "contacts", path, on_duplicate="update")
    writers = _Writers(monkeypatch)
    progress = _Progress()
    engine_run(job, path, progress=progress, overlap=True).execute()
    threads = {name for name, _ in progress.updates}
    assert threads == {threading.main_thread().name}
    shown = [counts for _, counts in progress.updates]
    assert shown[:-1] == [c["job_counts"] for c in writers.checkpoints]
    assert shown[-1] == writers.checkpoints[-1]["job_counts"]  # the run's last word

    monkeypatch.undo()
    checkpoint_write = _taken_over_at_third_checkpoint()
    monkeypatch.setattr(ImportRun, "checkpoint_write", checkpoint_write)
    _reset(org)
    job = draft(org, owner, "contacts", path, on_duplicate="update")
    progress = _Progress()
    run = engine_run(job, path, progress=progress, overlap=True)
    with pytest.raises(JobTakenOver):
        run.execute()
    run.failed.close()
    job.refresh_from_db()
    assert job.checkpoint["rows"] == 8
    assert [c["processed"] for _, c in progress.updates] == [4, 8]


def _whole_run(org, owner, tmp_path, settings):
    """The rows, in batches of four, imported one batch after the other from the starting
    state: the rows, and what the run ended with (summary, failed rows, outcome)."""
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 4}
    rows = _rows()
    _reset(org)
    job, summary, error, failed = _run(
        org, owner, tmp_path, rows, overlap=False, name="whole", on_duplicate="update"
    )
    assert error is None
    return rows, (summary, failed, _outcome(org, job))


def _resumed_ends_as_whole(org, job, path, whole) -> None:
    """The run of ``job`` resumed from its checkpoint ends as the whole run did."""
    run = engine_run(job, path, overlap=True, resume=job.checkpoint)
    summary = run.execute()
    failed = run.failed.close()
    assert summary == whole[0]
    assert open(failed, encoding="utf-8").read() == whole[1]  # noqa: SIM115
    assert _outcome(org, job) == whole[2]


def test_a_run_whose_writer_died_resumes_to_the_outcome_of_one_whole_run(
    org, owner, tmp_path, settings, monkeypatch, accounts
):
    """The writer stops after committing three batches (a worker taken for dead); the run
    resumed from the job's checkpoint, overlapped again, ends where one uninterrupted run
    ends: the same records, row log, change log, counts and failed rows, nothing twice."""
    rows, whole = _whole_run(org, owner, tmp_path, settings)

    calls = {"n": 0}
    real = ImportRun.checkpoint_write

    def dies(run, checkpoint):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("the worker died")
        real(run, checkpoint)

    monkeypatch.setattr(ImportRun, "checkpoint_write", dies)
    _reset(org)
    job, _, error, _ = _run(
        org, owner, tmp_path, rows, overlap=True, name="dies", on_duplicate="update"
    )
    monkeypatch.undo()
    assert "the worker died" in repr(error)
    job.refresh_from_db()
    assert job.checkpoint["rows"] == 12

    writers = _Writers(monkeypatch)
    _resumed_ends_as_whole(org, job, tmp_path / "dies.csv", whole)
    assert writers.started == 1
    assert [c["rows"] for c in writers.checkpoints] == list(range(16, 44, 4))


def _sent_with_the_batch(sql: str, params: list) -> None:
    """``sql`` run in the writer process's transaction of the batch being made, as the run's
    own statements are."""
    script = capturing()
    assert script is not None, "made while the batch's statements are"
    script.execute(sql.replace("%s", "?") if connection.vendor == "sqlite" else sql, params)


def test_a_batch_whose_commit_fails_leaves_the_batches_before_it(
    org, owner, tmp_path, settings, accounts
):
    """The run's thread goes on once the writer has been sent a batch's row log and
    checkpoint, not once it committed them: a commit the database refuses (here a foreign
    key, which both databases check at the commit) still stops the run with its error, the
    batches before it committed, nothing of it."""
    from django.db import IntegrityError

    calls = {"n": 0}
    real = ImportRun.checkpoint_write

    def checkpoint_write(run, checkpoint):
        real(run, checkpoint)
        calls["n"] += 1
        if calls["n"] == 3:  # checked only when the batch commits
            _sent_with_the_batch(
                "UPDATE business_contact SET account_id = %s WHERE email = %s",
                [10**9, "p1@x.com"],  # written by the first batch
            )

    job = _stops_after_two_batches(
        org, owner, tmp_path, settings, "commit", checkpoint_write, IntegrityError
    )
    assert job.processed == 8


def test_a_foreign_key_refused_at_the_commit_fails_the_run_as_one_batch_after_the_other(
    org, owner, tmp_path, settings, monkeypatch, accounts
):
    """The database checks a batch's foreign keys when the batch commits (Django declares them
    deferred): a key refused there (an account deleted meanwhile, here a key that never
    was) stops the run with the batches before it committed, as one batch after the other
    does at that batch's commit."""
    real = InstanceFactory.insert

    def insert(self, rows, *, now, staged=None):
        ids = real(self, rows, now=now, staged=staged)
        if any(r.get("email") == "p13@x.com" for r in rows):
            if capturing() is not None:
                _sent_with_the_batch(
                    "UPDATE business_contact SET account_id = %s WHERE id = %s", [10**9, ids[0]]
                )
            else:
                Contact.objects.filter(pk=ids[0]).update(account_id=10**9)
        return ids

    overlapped, serial = [
        (w["started"], type(w["error"]), w["outcome"])
        for w in _both_with_insert(org, owner, tmp_path, settings, monkeypatch, insert, "k")
    ]
    assert (overlapped[0], serial[0]) == (1, 0)
    assert overlapped[1:] == serial[1:]
    assert overlapped[1].__name__ == "IntegrityError"
    assert overlapped[2]["job"][0] == 12  # three batches of four committed
    assert not writers_left()


def test_a_real_clash_with_a_record_made_meanwhile_is_written_row_by_row_alike(
    org, owner, tmp_path, settings, monkeypatch, accounts
):
    """Not a refusal made up by the test: the database's own unique-key error, met by the
    writer's insert of a batch whose key someone else wrote after the run read the table's
    keys (``Identity._present_keys``; here: a record the keys read leave out). The batch goes
    row by row and updates that record, on the writer as one batch after the other."""
    from wizard.engine import matching

    real = matching.existing_keys

    def read_before_someone_else(**kwargs):
        return {key for key in real(**kwargs) if key != ("p23@x.com",)}

    monkeypatch.setattr(matching, "existing_keys", read_before_someone_else)
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 4}
    outcomes = []
    for overlap in (True, False):
        _reset(org)
        Contact.objects.create(organization=org, email="p23@x.com", first_name="Theirs")
        path = tmp_path / f"clash{overlap}.csv"
        path.write_text(csv_text(_rows()), encoding="utf-8")
        job = draft(org, owner, "contacts", path, on_duplicate="update")
        run = engine_run(job, path, overlap=overlap)
        run.row_estimate = 40  # the table's keys are read once (9 of them, beside 40 rows)
        summary = run.execute()
        run.failed.close()
        assert Contact.objects.get(organization=org, email="p23@x.com").first_name == "F23"
        outcomes.append((summary["created"], summary["updated"], summary["failed"]))
        outcomes.append(_outcome(org, job)["table"])
    assert outcomes[:2] == outcomes[2:]
    assert not writers_left()


def test_a_killed_writer_process_stops_the_run_with_the_batches_before_it(
    org, owner, tmp_path, settings, monkeypatch, accounts
):
    """The writer process is killed while it holds the third batch: the run stops with a message
    a person can read, the two batches before it and their checkpoint stay, nothing of the
    third, no process is left; the run resumed from the checkpoint ends where one whole run
    ends."""
    import os
    import signal

    from jobs.writer_process import WriterGone

    rows, whole = _whole_run(org, owner, tmp_path, settings)

    writers = []
    real_init = pipeline.ProcessWriter.__init__

    def init(writer, run):
        real_init(writer, run)
        writers.append(writer)

    calls = {"n": 0}
    real_write = ImportRun.checkpoint_write

    def checkpoint_write(run, checkpoint):
        calls["n"] += 1
        if calls["n"] == 3:
            process = writers[-1]._process
            os.kill(process.pid, signal.SIGKILL)
            process._proc.wait()
        real_write(run, checkpoint)

    monkeypatch.setattr(pipeline.ProcessWriter, "__init__", init)
    monkeypatch.setattr(ImportRun, "checkpoint_write", checkpoint_write)
    _reset(org)
    job, _, error, _ = _run(
        org, owner, tmp_path, rows, overlap=True, name="killed", on_duplicate="update"
    )
    monkeypatch.undo()
    assert isinstance(error, WriterGone)
    assert "writer process stopped (exit status -9)" in error.message
    assert writers[-1]._process._proc.poll() is not None
    job.refresh_from_db()
    assert job.checkpoint["rows"] == 8
    emails = set(Contact.objects.filter(organization=org).values_list("email", flat=True))
    assert "p6@x.com" in emails and not {"p8@x.com", "p11@x.com"} & emails  # batch three's

    _resumed_ends_as_whole(org, job, tmp_path / "killed.csv", whole)


def test_the_writer_process_ends_with_the_run(
    org, owner, tmp_path, settings, monkeypatch, accounts
):
    settings.FERRY = {**settings.FERRY, "IMPORT_BATCH_SIZE": 4}
    processes = []
    real_init = pipeline.ProcessWriter.__init__

    def init(writer, run):
        real_init(writer, run)
        processes.append(writer._process._proc)

    monkeypatch.setattr(pipeline.ProcessWriter, "__init__", init)
    _reset(org)
    _, summary, error, _ = _run(org, owner, tmp_path, _rows(), overlap=True, name="ends")
    assert error is None and summary["created"]
    (process,) = processes
    assert process.poll() == 0
