"""A worker stopped on purpose (Ctrl-C, a deploy's SIGTERM) stops counting as alive at once,
with a real consumer process; a killed one goes stale (tests/jobs/test_recovery.py)."""

from __future__ import annotations

import signal
import time

import pytest

from conftest import consumer_start
from jobs.models import WorkerHeartbeat
from jobs.selectors import workers_state

pytestmark = pytest.mark.consumer


def _wait(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize(
    "stop",
    [signal.SIGINT, signal.SIGTERM],
    ids=["ctrl-c", "sigterm"],  # Huey's graceful stop, and its immediate one (a deploy's)
)
def test_a_worker_stopped_on_purpose_is_no_longer_counted_alive(transactional_db, tmp_path, stop):
    proc = consumer_start(tmp_path / "consumer.log")
    try:
        assert _wait(lambda: WorkerHeartbeat.objects.filter(pid=proc.pid).exists()), (
            proc.log_path.read_text()
        )
        assert workers_state().alive == 1
        proc.send_signal(stop)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.log.close()
    assert not WorkerHeartbeat.objects.filter(pid=proc.pid).exists(), proc.log_path.read_text()
    assert workers_state().alive == 0
