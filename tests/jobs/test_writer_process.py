"""What an import sends its writer process (jobs/db_writer.py) reads back exactly as the same
writes made on the import's own connection, on both databases: inserts (COPY's rows on
PostgreSQL, INSERTs on SQLite) of text with tabs, newlines, backslashes and accents, blanks
and NULLs, JSON; updates of JSON values (sent row by row: JSON has no plain array form);
the checkpoint's update, which must change its one row. And the process ends with the
process that started it, even with work still in its pipe."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from jobs import writer_process
from jobs.bulk import inserter_for
from jobs.errors import JobTakenOver
from jobs.models import DataJob, JobLogEntry
from jobs.services import job_log
from jobs.writer_process import Script, WriterFailed, WriterProcess, capture, queryset_update
from wizard.models import ImportChange

# The process has a connection of its own: it sees only what is committed.
committed = pytest.mark.django_db(transaction=True)

AWKWARD = ["tab\there", "line\nbreak\r\nmore", "back\\slash \\N", "Zoë Ørsted — 東京", "", "'\"%"]


def _logs() -> list[dict]:
    return [
        {"row_number": i, "column": "Notes", "value": t, "message": f"{i}: {t}"}
        for i, t in enumerate(AWKWARD)
    ]


def _changes(job, resource: str = "contacts") -> list[dict]:
    return [
        {
            "job_id": job.pk,
            "resource": resource,
            "object_id": i,
            "action": "updated",
            "before": {"notes": text, "raw": [text, None, 1.5, True]},
            "after": {"notes": None, "when": "2026-11-30T05:00:00+00:00"},
        }
        for i, text in enumerate(AWKWARD)
    ]


def _writes(job, now) -> None:
    """The writes an import's batch makes: its row log, its change log, values set again (here
    the JSON of the change log committed before, ``_earlier``), its checkpoint."""
    job_log(job=job, entries=_logs())
    inserter_for(ImportChange).insert(_changes(job), now=None, keys=False)
    changes = list(ImportChange.objects.filter(job=job, resource="accounts").order_by("object_id"))
    for change, text in zip(changes, AWKWARD, strict=True):
        change.after = {"notes": text, "list": [text, {"deep": text}]}
    inserter_for(ImportChange).update(changes, ["after"])
    queryset_update(
        DataJob.objects.filter(pk=job.pk, attempt=job.attempt),
        {"checkpoint": {"rows": 6, "note": AWKWARD}, "heartbeat_at": now},
        refused=JobTakenOver(),
    )


def _read(job) -> tuple:
    job.refresh_from_db()
    return (
        sorted(
            JobLogEntry.objects.filter(job=job).values_list(
                "row_number", "column", "value", "message"
            )
        ),
        sorted(
            ImportChange.objects.filter(job=job).values_list("object_id", "before", "after"),
            key=lambda c: c[0],
        ),
        job.checkpoint,
        job.heartbeat_at,
    )


def _earlier(job) -> None:
    """A fresh start: no row log, a change log committed before (to be updated), no
    checkpoint."""
    JobLogEntry.objects.filter(job=job).delete()
    ImportChange.objects.filter(job=job).delete()
    DataJob.objects.filter(pk=job.pk).update(checkpoint={}, heartbeat_at=None)
    inserter_for(ImportChange).insert(_changes(job, "accounts"), now=None, keys=False)


@committed
@pytest.mark.parametrize(
    "binding",
    [
        "client",
        pytest.param(
            "server",
            marks=pytest.mark.skipif(
                connection.vendor != "postgresql", reason="PostgreSQL's server-side binding"
            ),
        ),
    ],
)
def test_what_the_process_writes_reads_back_as_written_here(
    org, owner, make_job, monkeypatch, binding
):
    """``binding``: how the process binds its statements' values, as Django's settings ask
    (``OPTIONS["server_side_binding"]``); the run's own connection is left as it is."""
    job = make_job(org, owner)
    now = timezone.now()
    _earlier(job)
    with transaction.atomic():
        _writes(job, now)
    here = _read(job)
    assert here[2] == {"rows": 6, "note": AWKWARD}
    assert "tab\there" in {c[2]["notes"] for c in here[1]}

    _earlier(job)
    if binding == "server":
        options = {**connection.settings_dict["OPTIONS"], "server_side_binding": True}
        monkeypatch.setitem(connection.settings_dict, "OPTIONS", options)
        import psycopg

        assert writer_process._postgresql_params()["cursor_factory"] is psycopg.Cursor
    process = WriterProcess()
    monkeypatch.undo()
    try:
        script = Script({}, process.limit)
        with capture(script):
            _writes(job, now)
        assert {op[0] for op in script.ops} >= (
            {"copy"} if connection.vendor == "postgresql" else {"run"}
        )
        process.send([("begin",), *script.ops, ("commit",), ("reply",)])
        process.reply()
    finally:
        process.close()
    assert _read(job) == here


@committed
def test_a_checkpoint_that_changes_no_row_fails_the_batch_with_its_error(org, owner, make_job):
    """The job was given to another worker meanwhile (its attempt moved on): the process rolls
    the batch back, and the import hears the error the checkpoint was sent with."""
    job = make_job(org, owner)
    _earlier(job)
    before = _read(job)
    DataJob.objects.filter(pk=job.pk).update(attempt=job.attempt + 1)
    process = WriterProcess()
    try:
        script = Script({}, process.limit)
        with capture(script):
            _writes(job, timezone.now())
        process.send([("begin",), *script.ops, ("commit",), ("reply",)])
        with pytest.raises(WriterFailed) as failed:
            process.reply()
    finally:
        process.close()
    assert isinstance(failed.value.error(), JobTakenOver)
    assert _read(job) == before  # nothing of the batch: no row log, change log as it was


_STARTER = """
import os, subprocess, sys, time
program, fd = sys.argv[1], int(sys.argv[2])
writer = subprocess.Popen(
    [sys.executable, "-I", program, str(os.getpid())], stdin=fd, stdout=subprocess.DEVNULL
)
print(writer.pid, flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for whoever adopted it to reap it is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_writer_process_dies_with_the_process_that_started_it():
    """A worker killed mid-run: its writer process goes at once, not when its pipe runs dry
    (here the pipe never does: this test holds it open), so no batch is committed after the
    worker died."""
    read_end, write_end = os.pipe()
    starter = subprocess.Popen(  # noqa: S603 - this interpreter, our own program
        [sys.executable, "-c", _STARTER, str(writer_process._PROGRAM), str(read_end)],
        pass_fds=(read_end,),
        stdout=subprocess.PIPE,
    )
    os.close(read_end)
    try:
        writer = int(starter.stdout.readline())
        time.sleep(0.3)
        assert _alive(writer), "waiting for its set-up"
        starter.kill()  # SIGKILL: nothing of the starter's runs
        starter.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _alive(writer) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(writer)
    finally:
        os.close(write_end)
        if starter.poll() is None:
            starter.kill()
        starter.stdout.close()
