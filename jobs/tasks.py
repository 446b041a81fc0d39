"""Jobs' own Huey tasks: the worker check and the daily retention purge.

The worker check walks a number of steps, reporting progress like a real import does, so the
dashboard's live progress bar and the whole lifecycle can be checked without touching business data.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import time

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task, lock_task

from jobs.errors import FerryError
from jobs.heartbeat import HEARTBEAT
from jobs.models import DataJob
from jobs.services import (
    job_create,
    job_queue,
    job_run,
    jobs_purge,
    jobs_recover_stalled,
    workers_forget,
)

logger = logging.getLogger(__name__)

WORKER_CHECK_TARGET = "worker-check"


class WorkerCheckFailed(FerryError):
    pass


@db_task()
def worker_check_task(job_id: int) -> None:
    def work(job, progress):
        steps = int(job.params.get("steps", 20))
        delay = float(job.params.get("delay", 0.1))
        progress.set_total(steps)
        for step in range(1, steps + 1):
            progress.check_cancel()
            time.sleep(delay)
            if job.params.get("fail_at") == step:
                raise WorkerCheckFailed(f"The worker check was asked to fail at step {step}.")
            if job.params.get("crash_at") == step:
                raise RuntimeError("simulated crash with internal details")
            progress.update(processed=step, succeeded=step)
        return {"steps": steps}

    job_run(job_id, work)


def worker_check_queue(*, organization, user, steps: int = 20, delay: float = 0.1) -> DataJob:
    """Queue a worker check for an organization; it completes in about ``steps * delay`` seconds."""
    job = job_create(
        organization=organization,
        user=user,
        job_type=DataJob.Type.SYSTEM,
        target=WORKER_CHECK_TARGET,
        target_label="Worker check",
        params={"steps": steps, "delay": delay},
    )
    return job_queue(job=job, task=worker_check_task)


@db_periodic_task(crontab(hour="3", minute="17"))
# Every consumer schedules periodic tasks; with several workers only one purge runs at a time.
@lock_task("ferry-purge-jobs")
def purge_jobs_task() -> None:
    """Daily retention: finished jobs and drafts older than FERRY["JOB_RETENTION_DAYS"], with files."""
    jobs, files = jobs_purge()
    logger.info("Retention purge removed %s jobs and %s files", jobs, files)


# No lock_task here: a worker killed while holding a Huey lock leaves it held for good, and
# this is the task that must run after a worker was killed. Concurrent runs are safe: each
# job is taken over with a conditional update that only one of them wins.
@db_periodic_task(crontab())
def recover_stalled_jobs_task() -> None:
    """Every minute: handle the jobs whose worker died (resume, run again or fail them)."""
    done = jobs_recover_stalled()
    workers_forget()
    if done:
        logger.warning("Stalled jobs handled: %s", done)


@HUEY.on_startup()
def worker_heartbeat_start() -> None:
    """Each consumer process records that it is alive, for as long as it is.

    A worker that starts also looks for jobs a dead worker left at once, rather than at the next
    minute: restarting the worker is what people do after a crash.
    """
    if HEARTBEAT.worker_register():
        # SIGTERM (Huey's immediate stop) calls no shutdown hook, but the process still exits
        # through the interpreter's shutdown: a deploy's stop is then not taken for a live
        # worker for the stalled time either. A killed process leaves its row to go stale.
        atexit.register(_worker_gone)
        try:
            recover_stalled_jobs_task.call_local()
        except Exception:  # the database is busy, say: the every-minute run does it
            logger.info("Stalled-jobs check at start-up skipped", exc_info=True)


def _worker_gone() -> None:
    with contextlib.suppress(Exception):  # the database may be gone first: the row goes stale
        HEARTBEAT.worker_unregister()


@HUEY.on_shutdown()
def worker_heartbeat_stop() -> None:
    """A worker stopped with Ctrl-C stops counting as alive at once.

    Its heartbeat would otherwise pass for a live worker for the stalled time: right after a
    restart the dashboard said "2 workers alive" with one running, and a job queued meanwhile
    looked as if someone would take it. Huey calls this in each worker thread as it ends after
    SIGINT (its graceful stop); the jobs still finishing keep their own heartbeats. SIGTERM,
    Huey's immediate stop, calls no hook: ``_worker_gone`` runs at the process's exit instead.
    Neither alone covers both: a worker started with ``--worker-type process`` ends in
    ``os._exit`` (multiprocessing), which runs no atexit handler.
    """
    HEARTBEAT.worker_unregister()
