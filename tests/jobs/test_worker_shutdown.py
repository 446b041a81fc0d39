"""A worker stopped on purpose stops counting as alive at once, with a real consumer process."""

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


def test_a_worker_stopped_with_ctrl_c_is_no_longer_counted_alive(transactional_db, tmp_path):
    proc = consumer_start(tmp_path / "consumer.log")
    try:
        assert _wait(lambda: WorkerHeartbeat.objects.filter(pid=proc.pid).exists()), (
            proc.log_path.read_text()
        )
        assert workers_state().alive == 1
        proc.send_signal(signal.SIGINT)  # what Ctrl-C and ./ferry start send
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.log.close()
    assert not WorkerHeartbeat.objects.filter(pid=proc.pid).exists(), proc.log_path.read_text()
    assert workers_state().alive == 0
