"""The import command line as a person and as a script meet it: a real process on a terminal.

``call_command`` with StringIO streams never draws the progress line (it is not a terminal),
which is how a crash at the end of every terminal import went unseen. These tests spawn
``manage.py`` on a pseudo-terminal against the test database (committed data, hence
transactional_db), and check ``--json`` answers on a pipe: one JSON object, errors included.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from business.models import Contact
from conftest import consumer_env
from jobs.models import DataJob
from tests.wizard.test_engine import media_in_tmp, write_file  # noqa: F401

MANAGE = Path(__file__).resolve().parents[2] / "manage.py"
TIMEOUT = 60


def run_on_pty(*args: str, timeout: float = TIMEOUT) -> tuple[int, str]:
    """Run ``manage.py ARGS`` with stdin, stdout and stderr on a pseudo-terminal.

    Returns the exit status and everything the terminal showed.
    """
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, str(MANAGE), *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=consumer_env(),
        close_fds=True,
    )
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def run_piped(*args: str, timeout: float = TIMEOUT) -> tuple[int, str, str]:
    """Run ``manage.py ARGS`` as a script does: stdout and stderr are pipes."""
    proc = subprocess.run(
        [sys.executable, str(MANAGE), *args],
        capture_output=True,
        text=True,
        env=consumer_env(),
        timeout=timeout,
    )
    return proc.returncode, proc.stdout, proc.stderr


def one_json_object(stdout: str) -> dict:
    """stdout holds exactly one JSON object, nothing before or after it."""
    data = json.loads(stdout)
    assert isinstance(data, dict)
    return data


@pytest.fixture
def people(tmp_path):
    rows = [["Email", "First name"]] + [[f"p{i}@x.com", f"P{i}"] for i in range(250)]
    return write_file(tmp_path, rows)


def test_it_imports_on_a_terminal_without_crashing(transactional_db, org, owner, people):
    code, screen = run_on_pty("import_data", "contacts", str(people), "--org", org.slug)
    assert "Traceback" not in screen and "AttributeError" not in screen
    assert code == 0, screen
    assert "250 rows: 250 created" in screen
    assert "rows/s" in screen  # the progress line was drawn on the terminal
    job = DataJob.objects.get(job_type="import", organization=org)
    assert (job.status, job.total, job.processed, job.succeeded) == ("completed", 250, 250, 250)
    assert Contact.objects.filter(organization=org).count() == 250


def test_it_rolls_back_an_all_or_nothing_import_on_a_terminal(
    transactional_db, org, owner, tmp_path
):
    path = write_file(tmp_path, [["Email"], ["a@x.com"], ["not-an-address"]])
    code, screen = run_on_pty(
        "import_data", "contacts", str(path), "--org", org.slug, "--mode", "atomic"
    )
    assert "Traceback" not in screen
    assert code == 2, screen
    assert "nothing was written" in screen
    assert not Contact.objects.filter(organization=org).exists()


def test_it_prints_a_dry_run_on_a_terminal(transactional_db, org, owner, people):
    code, screen = run_on_pty(
        "import_data", "contacts", str(people), "--org", org.slug, "--dry-run", "--limit", "10"
    )
    assert code == 0 and "Traceback" not in screen, screen
    assert "10 rows: 10 would be created" in screen
    assert not Contact.objects.exists()


def test_it_undoes_on_a_terminal(transactional_db, org, owner, people):
    run_on_pty("import_data", "contacts", str(people), "--org", org.slug)
    job = DataJob.objects.get(job_type="import")
    code, screen = run_on_pty("undo_import", str(job.pk))
    assert code == 0 and "Traceback" not in screen, screen
    assert "Contacts: 250 deleted" in screen
    assert not Contact.objects.exists()


# --- --json: one object for every outcome ------------------------------------------------------


def test_it_answers_json_for_a_successful_import(transactional_db, org, owner, people):
    code, out, err = run_piped("import_data", "contacts", str(people), "--json")
    data = one_json_object(out)
    assert code == 0, err
    assert (data["status"], data["created"]) == ("completed", 250)


@pytest.mark.parametrize(
    "args, code_name",
    [
        (["import_data", "contacts", "{file}", "--json", "--limit", "many"], "bad_arguments"),
        (["import_data", "contacts", "{file}", "--json", "--mode", "sometimes"], "bad_arguments"),
        (["import_data", "contacts", "{file}", "--json", "--no-such-flag"], "bad_arguments"),
        (["import_data", "planets", "{file}", "--json"], "error"),
        (["import_data", "contacts", "/no/such/file.csv", "--json"], "error"),
        (["import_data", "contacts", "{file}", "--json", "--encoding", "rot13"], "error"),
        (["import_data", "contacts", "{file}", "--json", "--encoding", "base64"], "error"),
        (["import_data", "contacts", "{file}", "--json", "--encoding", "klingon"], "error"),
        (["import_data", "contacts", "{file}", "--json", "--map", "Nope"], "error"),
        (["undo_import", "--json"], "bad_arguments"),
        (["undo_import", "999999", "--json"], "error"),
        (["inspect_file", "--json", "{file}", "--encoding", "zlib"], "error"),
        (["inspect_file", "--json", "{file}", "--rows", "x"], "bad_arguments"),
    ],
)
def test_it_answers_one_json_object_with_exit_1_for_errors(
    transactional_db, org, owner, people, args, code_name
):
    args = [a.replace("{file}", str(people)) for a in args]
    code, out, err = run_piped(*args)
    data = one_json_object(out)
    assert code == 1, (out, err)
    assert data["status"] == "error" and data["code"] == code_name
    assert data["message"] and "Traceback" not in out
    assert not Contact.objects.exists()


def test_it_says_why_a_codec_is_not_a_text_encoding(transactional_db, org, owner, people):
    _, out, _ = run_piped("import_data", "contacts", str(people), "--json", "--encoding", "rot13")
    assert "'rot13' is not a text encoding" in one_json_object(out)["message"]


def test_it_answers_json_when_a_limit_refuses_the_file(transactional_db, org, owner, tmp_path):
    big = write_file(tmp_path, [["Email"]] + [[f"p{i}@x.com"] for i in range(30)])
    env_limit = {"FERRY_MAX_IMPORT_ROWS": "10"}
    code, out, err = _run_piped_env(env_limit, "import_data", "contacts", str(big), "--json")
    data = one_json_object(out)
    assert code == 1, err
    assert "10" in data["message"] and data["status"] in ("error", "failed")
    assert not Contact.objects.exists()


def test_it_answers_json_for_an_unreadable_file(transactional_db, org, owner, tmp_path):
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 this is no workbook" * 10)
    code, out, _ = run_piped("import_data", "contacts", str(junk), "--json")
    data = one_json_object(out)
    assert code == 1 and data["status"] == "error" and data["message"]


def test_it_answers_json_when_rows_fail_with_exit_2(transactional_db, org, owner, tmp_path):
    path = write_file(tmp_path, [["Email"], ["a@x.com"], ["nope"]])
    code, out, _ = run_piped("import_data", "contacts", str(path), "--json")
    data = one_json_object(out)
    assert code == 2 and (data["created"], data["failed"]) == (1, 1)


def _run_piped_env(extra: dict, *args: str) -> tuple[int, str, str]:
    env = {**consumer_env(), **extra}
    proc = subprocess.run(
        [sys.executable, str(MANAGE), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT,
    )
    return proc.returncode, proc.stdout, proc.stderr
