"""``./ferry start``: a clean stop on Ctrl-C, nothing started when the port is taken, a readable log.

The script runs for real (migrate, seed_demo, worker, web server) on a temporary var/; only the
install step is skipped, by pointing VENV at this test run's interpreter with an up-to-date
install stamp. `.ci/start-smoke` covers the install on a fresh clone.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOGIN_LINE = re.compile(r"^\s+(\w+) / (\S+)\s+\((\w+)\)\s*$", re.MULTILINE)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def ferry_env(tmp_path) -> dict[str, str]:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    (venv / ".ferry-installed-runtime").write_text(digest + "\n")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "FERRY_TESTING", "FERRY_DB_NAME", "HUEY_NAME"}
        and not key.startswith(("PYTEST", "DJANGO_"))
    }
    env.update(
        VENV=str(venv),
        FERRY_VAR_DIR=str(tmp_path / "var"),
        MEDIA_ROOT=str(tmp_path / "var" / "media"),
        HOST="127.0.0.1",
        PORT=str(_free_port()),
    )
    return env


def _as_in_a_terminal() -> None:
    # A terminal's foreground job gets Ctrl-C. A test run started in the background (nohup,
    # a CI runner's `cmd &`) has SIGINT and SIGQUIT ignored, which its children inherit, and a
    # shell cannot trap a signal ignored when it started: ./ferry would never see the Ctrl-C.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def _start(env: dict[str, str], output: Path) -> subprocess.Popen:
    return subprocess.Popen(
        ["./ferry", "start"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=output.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=_as_in_a_terminal,  # noqa: PLW1509 - two signal calls, no locks taken
    )


def _wait_for_text(process: subprocess.Popen, output: Path, text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        printed = output.read_text()
        if text in printed:
            return printed
        if process.poll() is not None:
            pytest.fail(f"./ferry start exited {process.returncode}:\n{printed}")
        time.sleep(0.3)
    pytest.fail(f"no {text!r} after {timeout} s:\n{output.read_text()}")


def test_it_refuses_a_taken_port_before_starting_anything(ferry_env, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ferry_env["PORT"] = str(taken.getsockname()[1])
        result = subprocess.run(
            ["./ferry", "start"],
            cwd=ROOT,
            env=ferry_env,
            capture_output=True,
            text=True,
            timeout=60,
            start_new_session=True,
        )
    assert result.returncode == 1
    assert f"Port {ferry_env['PORT']} on 127.0.0.1 is already in use" in result.stderr
    # Nothing was started: no worker (its log is never opened), no migration.
    assert not (tmp_path / "var" / "log" / "worker.log").exists()
    assert not (tmp_path / "var" / "ferry.sqlite3").exists()


def test_it_stops_cleanly_on_ctrl_c_and_keeps_a_readable_log(ferry_env, tmp_path):
    output = tmp_path / "ferry.out"
    port = int(ferry_env["PORT"])
    for _run in (1, 2):
        process = _start(ferry_env, output)
        try:
            printed = _wait_for_text(process, output, "Ferry is running at", timeout=180)
            assert f"http://127.0.0.1:{port}/" in printed
            assert not _port_is_free(port)
            # Ctrl-C in a terminal: SIGINT to the whole foreground process group.
            os.killpg(process.pid, signal.SIGINT)
            assert process.wait(timeout=30) == 0
        finally:
            if _group_alive(process.pid):
                os.killpg(process.pid, signal.SIGKILL)
        printed = output.read_text()
        assert "unbound variable" not in printed
        time.sleep(0.3)
        assert not _group_alive(process.pid), "a process of ./ferry start outlived Ctrl-C"
        assert _port_is_free(port)
        # The demo accounts are printed once (by seed_demo), not a second time by ./ferry.
        usernames = [m.group(1) for m in LOGIN_LINE.finditer(printed)]
        assert "admin" in usernames
        assert len(usernames) == len(set(usernames))

    log = (tmp_path / "var" / "log" / "worker.log").read_text()
    # Appended, one marker per start; each line once (no second handler on the huey logger).
    assert log.count("./ferry start: worker starting at") == 2
    assert log.count("Huey consumer started") == 2
    started = [line for line in log.splitlines() if "Huey consumer started" in line]
    assert len(set(started)) == 2
    assert log.count("The following commands are available") == 2
