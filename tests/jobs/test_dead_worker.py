"""A worker killed with SIGKILL mid-run never leaves a job stuck (real consumer processes).

The first consumer is killed while it imports; a second one, started once the job's heartbeat
is older than the (shortened) stalled time, finds the job at start-up and handles it: a
skip-invalid import is resumed from its last committed batch, an all-or-nothing one is failed
with nothing written, a re-runnable job runs again. Run on SQLite and on PostgreSQL + Redis.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest
from django.db import connection

from business.models import Contact
from conftest import ROOT, consumer_env
from jobs import writer_process
from jobs.models import DataJob, JobLogEntry
from jobs.selectors import workers_state
from jobs.tasks import worker_check_queue
from tests.wizard.test_engine import draft, media_in_tmp, write_file  # noqa: F401
from wizard.engine.undo import changes_created_ids
from wizard.models import ImportChange
from wizard.services import import_start, import_undo

pytestmark = pytest.mark.consumer

STALLED_AFTER = 3
BATCH = 200


@pytest.fixture
def consumers(transactional_db, tmp_path, settings):
    """Start consumer processes with short heartbeat and stalled times (each with its batch
    size); stop them after."""
    from huey.contrib.djhuey import HUEY

    HUEY.flush()
    settings.FERRY = {**settings.FERRY, "JOB_STALLED_AFTER_SECONDS": STALLED_AFTER}
    started: list[subprocess.Popen] = []

    def start(batch: int = BATCH) -> subprocess.Popen:
        env = consumer_env()
        env.update(
            FERRY_JOB_STALLED_AFTER_SECONDS=str(STALLED_AFTER),
            FERRY_JOB_HEARTBEAT_SECONDS="1",
            FERRY_IMPORT_BATCH_SIZE=str(batch),
        )
        log_path = tmp_path / f"consumer-{len(started) + 1}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "manage.py", "run_huey", "--workers", "2"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        proc.log_path = log_path
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def logs(*procs) -> str:
    return "\n".join(p.log_path.read_text(errors="replace") for p in procs)


def wait_until(predicate, *, timeout: float, what: str, procs=()) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    pytest.fail(f"{what} did not happen within {timeout}s\n{logs(*procs)}")


def wait_done(job: DataJob, *procs, timeout: float = 120) -> DataJob:
    wait_until(
        lambda: DataJob.objects.get(pk=job.pk).is_finished,
        timeout=timeout,
        what=f"job {job.pk} finishing",
        procs=procs,
    )
    job.refresh_from_db()
    return job


def writers_running() -> list[int]:
    """This checkout's import writer processes (jobs/db_writer.py) still running, whoever
    started them (a killed worker's are adopted by another process)."""
    program = str(writer_process._PROGRAM).encode()
    running = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            if program in (entry / "cmdline").read_bytes():
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    running.append(int(entry.name))
    return running


def kill(proc: subprocess.Popen) -> None:
    proc.kill()  # SIGKILL: no clean-up of any kind runs in the worker
    proc.wait(timeout=10)


def wait_stalled(job: DataJob) -> None:
    """Until the dead worker's last heartbeat is older than the stalled time."""
    job.refresh_from_db()
    time.sleep(STALLED_AFTER + 1.2)


def contacts_file(tmp_path, rows: int, *, bad_every: int = 0, duplicate_of: dict | None = None):
    data = [["Email", "First name", "Last name"]]
    for i in range(1, rows + 1):
        email = f"person{i}@example.com"
        if bad_every and i % bad_every == 0:
            email = f"not-an-email-{i}"
        if duplicate_of and i in duplicate_of:
            email = f"person{duplicate_of[i]}@example.com"
        data.append([email, f"First{i}", f"Last{i}"])
    return write_file(tmp_path, data)


def test_it_resumes_a_skip_invalid_import_whose_worker_was_killed(
    org, owner, consumers, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    rows = 20_000
    # Row 19,990 repeats the e-mail of row 5, which the first worker committed: the resumed
    # run must still see it as a duplicate within the file.
    path = contacts_file(tmp_path, rows, bad_every=500, duplicate_of={19_990: 5})
    first = consumers()
    job = import_start(job=draft(org, owner, "contacts", path))
    assert job.on_stall == DataJob.OnStall.RESUME

    def midway() -> bool:
        job.refresh_from_db()
        return job.status == DataJob.Status.RUNNING and job.processed >= 6 * BATCH

    wait_until(midway, timeout=90, what="the import reaching row 1,200", procs=[first])
    assert workers_state().any_alive
    kill(first)
    # Its writer process went with it: nothing is committed after the worker died.
    wait_until(lambda: not writers_running(), timeout=5, what="the writer process ending")
    job.refresh_from_db()
    assert job.status == DataJob.Status.RUNNING, "the file was imported before the kill"
    committed = job.checkpoint["rows"]
    assert 0 < committed < rows
    assert committed % BATCH == 0
    # Exactly the committed batches are in the database: the checkpoint never runs ahead.
    assert Contact.objects.count() == committed - committed // 500

    wait_stalled(job)
    assert not workers_state().any_alive
    second = consumers()
    job = wait_done(job, first, second)
    assert job.status == DataJob.Status.COMPLETED, logs(first, second)
    assert job.attempt == 2

    invalid = rows // 500
    created = rows - invalid - 1
    assert Contact.objects.count() == created
    assert Contact.objects.values("email").distinct().count() == created
    summary = job.summary
    assert (summary["total"], summary["created"], summary["failed"]) == (rows, created, invalid + 1)
    assert (job.total, job.processed, job.succeeded, job.failed) == (
        rows,
        rows,
        created,
        invalid + 1,
    )
    errors = JobLogEntry.objects.filter(job=job, level="error")
    # One entry per invalid e-mail: the replay of the committed rows logs nothing again.
    assert errors.exclude(row_number=19_991).count() == invalid
    assert errors.values("row_number").distinct().count() == invalid + 1
    # A repeated key with other values fails by default (issue 11, case 1) and is told per
    # differing column, side by side with the committed row it repeats.
    repeat = errors.filter(row_number=19_991)
    assert sorted(repeat.values_list("column", flat=True)) == ["First name", "Last name"]
    assert all("is also on row 6" in m for m in repeat.values_list("message", flat=True))
    # The failed-rows file lists every failed row once, those before the kill included.
    failed_name = summary["files"]["failed-rows"]["name"]
    with job.output_file.storage.open(failed_name, "rb") as fh:
        failed = list(csv.reader(fh.read().decode("utf-8-sig").splitlines()))
    assert len(failed) == 1 + invalid + 1
    assert failed[0][0] == "Ferry row"
    assert failed[1][:2] == ["501", "not-an-email-500"]
    assert failed[-1][:2] == ["20001", "not-an-email-20000"]

    # Undo covers every record, those committed before the kill included.
    ids = changes_created_ids(job=job)
    assert len(ids) == len(set(ids)) == created
    result = import_undo(job=job, user=owner)
    assert result.deleted == created
    assert not Contact.objects.exists()


def test_it_fails_an_all_or_nothing_import_whose_worker_was_killed(
    org, owner, consumers, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    rows = 40_000
    path = contacts_file(tmp_path, rows)
    first = consumers()
    job = import_start(job=draft(org, owner, "contacts", path, mode="atomic"))
    assert job.on_stall == DataJob.OnStall.FAIL

    def midway() -> bool:
        job.refresh_from_db()
        if job.status != DataJob.Status.RUNNING:
            return False
        if connection.vendor == "postgresql":
            return job.processed >= 4 * BATCH
        # SQLite shows an all-or-nothing run's progress only at its end: give it a second.
        return (time.monotonic() - started) > 1.0

    started = time.monotonic()
    wait_until(midway, timeout=90, what="the import running", procs=[first])
    kill(first)
    job.refresh_from_db()
    assert job.status == DataJob.Status.RUNNING, "the file was imported before the kill"
    assert not Contact.objects.exists()

    wait_stalled(job)
    second = consumers()
    job = wait_done(job, first, second, timeout=60)
    assert job.status == DataJob.Status.FAILED, logs(first, second)
    assert "stopped before it finished" in job.error_message
    assert "Nothing of it was kept" in job.error_message
    assert (job.processed, job.succeeded, job.failed, job.skipped) == (0, 0, 0, 0)
    assert not Contact.objects.exists()
    assert not ImportChange.objects.filter(job=job).exists()


def test_it_runs_a_job_again_when_its_worker_was_killed(org, owner, consumers):
    first = consumers()
    job = worker_check_queue(organization=org, user=owner, steps=60, delay=0.05)

    def midway() -> bool:
        job.refresh_from_db()
        return job.status == DataJob.Status.RUNNING and job.processed >= 5

    wait_until(midway, timeout=60, what="the check starting", procs=[first])
    kill(first)
    wait_stalled(job)
    second = consumers()
    job = wait_done(job, first, second, timeout=60)
    assert job.status == DataJob.Status.COMPLETED, logs(first, second)
    assert (job.attempt, job.processed, job.total) == (2, 60, 60)
    assert job.worker.endswith(f":{second.pid}")
