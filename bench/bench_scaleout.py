"""Scale-out benchmark: N worker processes running N imports at once (Huey on Redis).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ferry REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/bench_scaleout.py --rows 100000 --concurrent 1,2,4 --workers 4

Everything comes from the app's settings; REDIS_URL is required (the SQLite queue serves one
machine). It creates a throw-away database (Django's test-database machinery), starts
``--workers`` consumer processes (``manage.py run_huey --workers 1`` each, the Procfile's worker
with one thread per process so that imports run in parallel, not under one GIL) with a queue
name of its own (nothing else in that Redis database is touched), and for each level k queues k
imports of ``--rows`` generated contacts at the same moment, each into its own organization.

Per level: the makespan (first queued to last finished), total rows/s, and per job the wait in
the queue and the run time. Figures only: nothing passes or fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import measure

os.environ.setdefault("HUEY_NAME", f"ferry-bench-scaleout-{os.getpid()}")
os.environ.setdefault("FERRY_MAX_CONCURRENT_IMPORTS", "64")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--concurrent", default="1,2,4")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL: several worker processes share a Redis queue.")

    measure.django_setup()
    from bench_import import ACCOUNTS, csv_generate
    from django.contrib.auth import get_user_model
    from django.db import connection

    from accounts.models import Membership, Organization
    from accounts.permissions import Role
    from business.models import Account
    from jobs.models import DataJob
    from wizard.services import import_configure, import_create, import_start

    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    tmp = Path(tempfile.mkdtemp(prefix="ferry-bench-scaleout-"))
    env = {
        **os.environ,
        "FERRY_DB_NAME": str(connection.settings_dict["NAME"]),
        "MEDIA_ROOT": str(tmp / "media"),
        "LOG_LEVEL": "WARNING",
    }
    os.environ["MEDIA_ROOT"] = env["MEDIA_ROOT"]
    from django.conf import settings

    settings.MEDIA_ROOT = env["MEDIA_ROOT"]
    logs = open(tmp / "workers.log", "w")  # noqa: SIM115  closed at the end
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_huey", "--workers", "1"],
            cwd=measure.ROOT,
            env=env,
            stdout=logs,
            stderr=logs,
            start_new_session=True,
        )
        for _ in range(args.workers)
    ]
    try:
        user = get_user_model().objects.create_user("bench", "bench@example.com", "x")
        source = tmp / "contacts.csv"
        csv_generate(source, args.rows)
        levels = [int(k) for k in args.concurrent.split(",")]
        print(
            f"Scale-out — {args.rows:,} rows per import, {args.workers} worker processes, "
            f"{connection.vendor}, Redis queue {settings.HUEY['name']}; load "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
            flush=True,
        )
        for level in levels:
            jobs = []
            for n in range(level):
                org = Organization.objects.create(
                    name=f"Scale {level}-{n}", slug=f"scale-{level}-{n}"
                )
                Membership.objects.create(user=user, organization=org, role=Role.ADMIN)
                Account.objects.bulk_create(
                    Account(organization=org, name=f"Account {i}") for i in range(ACCOUNTS)
                )
                with open(source, "rb") as fh:
                    job = import_create(
                        organization=org,
                        user=user,
                        resource="contacts",
                        file=fh,
                        filename="contacts.csv",
                    )
                import_configure(job=job, on_duplicate="update", mode="skip-invalid")
                jobs.append(job)
            queued = time.time()
            for job in jobs:
                import_start(job=job)
            pending = {job.pk for job in jobs}
            while pending:
                time.sleep(0.5)
                done = DataJob.objects.filter(pk__in=pending).exclude(
                    status__in=("pending", "queued", "running")
                )
                pending -= set(done.values_list("pk", flat=True))
            makespan = time.time() - queued
            finished = list(DataJob.objects.filter(pk__in=[j.pk for j in jobs]).order_by("pk"))
            print(
                f"\n{level} at once: makespan {makespan:.1f} s, "
                f"{level * args.rows / makespan:,.0f} rows/s in total; load "
                f"{os.getloadavg()[0]:.1f}",
                flush=True,
            )
            for job in finished:
                wait = (job.started_at.timestamp() - queued) if job.started_at else float("nan")
                run = (
                    (job.finished_at - job.started_at).total_seconds()
                    if job.finished_at and job.started_at
                    else float("nan")
                )
                print(
                    f"  job {job.pk}: {job.status}, waited {wait:5.1f} s, ran {run:6.1f} s "
                    f"({args.rows / run:,.0f} rows/s), {job.summary.get('created', 0):,} created",
                    flush=True,
                )
    finally:
        for proc in workers:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        logs.close()
        connection.close()
        connection.creation.destroy_test_db(test_db, verbosity=0)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
