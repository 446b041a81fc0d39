"""The worker check: a small job an admin can queue to see that a worker is running.

It walks a number of steps, reporting progress like a real import does, so the dashboard's
live progress bar and the whole lifecycle can be checked without touching business data.
"""

from __future__ import annotations

import time

from huey.contrib.djhuey import db_task

from jobs.errors import FerryError
from jobs.services import job_run


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
