"""Heartbeats: a worker process says it is alive, and so is each job it runs.

One daemon thread per process writes, every FERRY["JOB_HEARTBEAT_SECONDS"], the heartbeat of
the jobs this process is running and, in a worker (consumer) process, its own liveness record.
The beat does not depend on the job's progress, so a long batch does not look like a death;
and being a thread of the process, it dies with it: a killed worker stops beating at once,
which is what lets the stalled-jobs task find its jobs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from jobs.models import DataJob, WorkerHeartbeat

logger = logging.getLogger(__name__)


def _side_dir() -> Path | None:
    """SQLite only: where job heartbeats are also kept as files, next to the database.

    An all-or-nothing import holds SQLite's one write lock for its whole run, so no heartbeat
    can reach the database meanwhile; a file's modification time can. SQLite means one
    machine, so every process that can see the database sees these files too.
    """
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(f"{name}.heartbeats")


def side_beat(job_id: int) -> None:
    directory = _side_dir()
    if directory is None:
        return
    directory.mkdir(exist_ok=True)
    (directory / f"job-{job_id}").touch()


def side_alive(job_ids: Iterable[int], *, limit: float) -> set[int]:
    """The jobs whose side heartbeat is fresher than ``limit`` seconds (SQLite only)."""
    directory = _side_dir()
    if directory is None:
        return set()
    now = time.time()
    alive = set()
    for job_id in job_ids:
        try:
            if now - (directory / f"job-{job_id}").stat().st_mtime <= limit:
                alive.add(job_id)
        except FileNotFoundError:
            continue
    return alive


def side_forget(job_id: int) -> None:
    directory = _side_dir()
    if directory is not None:
        with contextlib.suppress(FileNotFoundError):
            (directory / f"job-{job_id}").unlink()


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def heartbeat_interval() -> float:
    return float(settings.FERRY["JOB_HEARTBEAT_SECONDS"])


class Heartbeat:
    """The process's heartbeat thread and what it beats for."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[int, int] = {}
        self._worker = False
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._wake = threading.Event()

    def job_add(self, *, job_id: int, attempt: int) -> None:
        with self._lock:
            self._jobs[job_id] = attempt
        side_beat(job_id)
        self._ensure_thread()

    def job_remove(self, *, job_id: int) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)
        side_forget(job_id)

    def worker_register(self) -> bool:
        """Called when a consumer starts: this process is a worker from now on.

        True the first time in this process (Huey calls start-up hooks in every worker thread).
        """
        with self._lock:
            if self._worker and self._pid == os.getpid():
                return False
            self._worker = True
        self._ensure_thread()
        self.beat()
        return True

    def worker_unregister(self) -> None:
        """This process no longer counts as a worker: its consumer stopped (tasks.py), or a test
        running in one process is done with it."""
        with self._lock:
            self._worker = False
        WorkerHeartbeat.objects.filter(name=process_name()).delete()

    def beat(self) -> None:
        """Write every heartbeat due now (also called directly by tests)."""
        now = timezone.now()
        with self._lock:
            jobs = dict(self._jobs)
            worker = self._worker
        for job_id in jobs:
            # First, and never blocked by a database lock (see _side_dir).
            side_beat(job_id)
        for job_id, attempt in jobs.items():
            DataJob.objects.filter(
                pk=job_id, attempt=attempt, status=DataJob.Status.RUNNING
            ).update(heartbeat_at=now)
        if not worker:
            # A command-line run or a test: no connection kept open between beats.
            connection.close()
            return
        hostname, pid = socket.gethostname(), os.getpid()
        WorkerHeartbeat.objects.update_or_create(
            name=process_name(),
            defaults={"hostname": hostname, "pid": pid, "seen_at": now},
            create_defaults={"hostname": hostname, "pid": pid, "seen_at": now, "started_at": now},
        )

    def _ensure_thread(self) -> None:
        with self._lock:
            # After a fork the parent's thread does not exist in the child: start a new one.
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._loop, name="ferry-heartbeat", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        last = time.monotonic()
        try:
            while True:
                # Short waits, so a changed interval (tests) or a new job is taken up quickly.
                self._wake.wait(1.0)
                self._wake.clear()
                if time.monotonic() - last < heartbeat_interval():
                    continue
                last = time.monotonic()
                with self._lock:
                    idle = not self._jobs and not self._worker
                if idle:
                    # Nothing to say (a web process between jobs): no connection opened at all.
                    continue
                try:
                    close_old_connections()
                    if connection.vendor == "sqlite":
                        # Wait for the write lock briefly: the side file already said we live,
                        # and the next beat must not be held up behind a long import.
                        with connection.cursor() as cursor:
                            cursor.execute("PRAGMA busy_timeout = 2000")
                    self.beat()
                except Exception:
                    # A locked SQLite database (an all-or-nothing import holds the write lock)
                    # or a lost connection: the next beat tries again. The thread never stops
                    # on its own; only its process's death stops it.
                    logger.info("Heartbeat not written this time", exc_info=True)
                    with contextlib.suppress(Exception):
                        connection.close()
        finally:
            with contextlib.suppress(Exception):
                connection.close()


HEARTBEAT = Heartbeat()
