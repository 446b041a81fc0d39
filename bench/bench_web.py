"""Web load benchmark: concurrent users on three pages while a large import runs in a worker.

    .venv/bin/python bench/bench_web.py                         # 30 users, 100k-row import
    .venv/bin/python bench/bench_web.py --users 30 --think 1.0  # users who read between clicks
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ferry_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/bench_web.py

Everything comes from the app's settings (DATABASE_URL, REDIS_URL, FERRY_VAR_DIR...), migrated
if needed. It seeds an organization ``bench-web`` with ``--contacts`` contacts and a history of
``--jobs`` finished jobs, so the dashboard shows full pages (both kept for the next run; the
contacts an earlier run imported are removed first, so every run imports into the same table),
starts the Procfile's ``web`` (gunicorn, as deployed: DEBUG off, collected static files)
and ``worker`` commands, warms the web workers up (every user asks for every page once,
unmeasured), queues an import of ``--import-rows`` generated contacts and, while it runs, lets ``--users`` threads (http.client, keep-alive, one session each) click through the
jobs dashboard, the contacts records page and the export builder, each waiting ``--think``
seconds (uniformly 0 to 2x) between clicks; while a user reads the dashboard, their browser
polls the import's status row every second, as htmx does ("status poll"). Then ``--api``
requests to the REST API at once.

The load stops when the import has finished (``--min-seconds`` keeps it going longer), so
every request measured overlaps the import. Per page: what the client waited (p50/p95/max,
loopback: connection and queueing included) and what the server spent (gunicorn's access log,
%(M)s: from the worker taking the request to the response), and errors; the CPU seconds of
gunicorn's processes per request and, on a local PostgreSQL, of all of the server's processes
(the import's backend included, so compare it between runs of the same import). Figures only:
nothing passes or fails.

    .venv/bin/python bench/bench_web.py --cpu 200 --jobs 2000   # CPU per dashboard request

``--cpu N`` measures no load: it fills the organization ``bench-web-cpu`` with ``--jobs``
finished jobs and a few running ones (one live, one stalled) and ``--contacts`` contacts, then
asks for the dashboard, a running job's status row, the contacts records page and the export
builder N times each through Django's test client in this process, and prints the CPU
milliseconds and database queries per request (median and p95): what one request costs,
whatever else the machine is doing.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import measure

PAGES = {
    "jobs dashboard": "/jobs/",
    "contacts records": "/records/contacts/",
    "export builder": "/export/?resource=contacts",
}
# The dashboard's status row of a running job, polled by the browser every second.
POLL = "status poll"
ORG_SLUG = "bench-web"
DEPLOYED_ENV = {
    # As deployed (README: deployment), over plain HTTP on the loopback.
    "DEBUG": "0",
    "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-web-not-a-secret-" + "x" * 32,
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "LOG_LEVEL": "WARNING",
    "FERRY_API_RATE": "100000/minute",
}


def procfile_command(
    kind: str, port: int, extra: list[str], procfile: Path | None = None
) -> list[str]:
    """The Procfile's line for ``kind``, run with this virtualenv's executables."""
    # ${NAME:-default} as a shell would expand it; PORT is the benchmark's own.
    env = {**os.environ, "PORT": str(port)}
    for line in (procfile or measure.ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == kind:
            command = re.sub(
                r"\$\{(\w+):-([^}]*)\}",
                lambda m: env.get(m.group(1)) or m.group(2),
                command.strip(),
            )
            argv = shlex.split(command)
            venv_bin = Path(sys.executable).parent
            # The program may follow a wrapper (``nice -n 10 python …``).
            for i, word in enumerate(argv):
                if word == "python":
                    argv[i] = sys.executable
                    break
                if "/" not in word and (venv_bin / word).exists():
                    argv[i] = str(venv_bin / word)
                    break
            return argv + extra
    raise SystemExit(f"Procfile has no {kind!r} line")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def setup(args):
    """Seed the organization, a manager with one session per virtual user, an API token."""
    from bench_export import seed
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from accounts.middleware import SESSION_KEY as ORG_SESSION_KEY
    from accounts.models import Membership, Organization
    from accounts.permissions import Role
    from api.tokens import token_create

    measure.database_ready()
    call_command("collectstatic", verbosity=0, interactive=False)
    seed(ORG_SLUG, args.contacts)
    org = Organization.objects.get(slug=ORG_SLUG)
    user, _ = get_user_model().objects.get_or_create(
        username="bench-web", defaults={"email": "bench-web@example.com"}
    )
    Membership.objects.get_or_create(user=user, organization=org, defaults={"role": Role.MANAGER})
    imported_remove(org)
    jobs_seed(org=org, user=user, count=args.jobs)
    tables_analyze()
    sessions = []
    for _ in range(args.users):
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store[ORG_SESSION_KEY] = org.pk
        store.create()
        sessions.append(store.session_key)
    _, raw_token = token_create(user=user, organization=org, name=f"bench {time.time():.0f}")
    return org, user, sessions, raw_token


def imported_remove(org) -> None:
    """Contacts an earlier run imported (the seeded ones are ``@bench.example``): without this,
    the second run's import updates what the first created, a different workload."""
    from business.models import Contact

    # One DELETE: the ORM's delete() would load every contact to send the per-object signals
    # (minutes for 100k), and nothing refers to a contact.
    extra = Contact.objects.filter(organization=org).exclude(email__endswith="@bench.example")
    extra._raw_delete(extra.db)


def jobs_seed(*, org, user, count: int) -> None:
    """A job history like a working organization's: imports and exports, some with failed rows,
    a few failed jobs, so the dashboard shows full pages rather than one row."""
    import datetime as dt

    from django.utils import timezone

    from jobs.models import DataJob

    have = DataJob.objects.filter(organization=org).count()
    now = timezone.now()
    jobs = []
    for i in range(have, count):
        started = now - dt.timedelta(hours=i, minutes=3)
        export = i % 3 == 0
        failed = i % 17 == 5
        jobs.append(
            DataJob(
                organization=org,
                user=user,
                job_type=DataJob.Type.EXPORT if export else DataJob.Type.IMPORT,
                status=DataJob.Status.FAILED if failed else DataJob.Status.COMPLETED,
                target="contacts",
                target_label="Contacts",
                format="xlsx" if export else "csv",
                input_filename="" if export else f"contacts-{i}.csv",
                output_filename=f"contacts-{i}.xlsx" if export else "",
                total=5000 + i,
                processed=5000 + i,
                succeeded=5000 + i - (i % 7),
                failed=i % 7,
                created_at=started - dt.timedelta(seconds=2),
                queued_at=started - dt.timedelta(seconds=1),
                started_at=started,
                finished_at=started + dt.timedelta(seconds=40 + i % 50),
                error_message="The file could not be read." if failed else "",
            )
        )
    DataJob.objects.bulk_create(jobs)


def tables_analyze() -> None:
    """On PostgreSQL, VACUUM ANALYZE what the pages read, as autovacuum does on a production
    server (a test server may run without it: then the planner has no statistics and a count
    of 100k contacts cannot use an index-only scan)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in ("business_contact", "business_account", "jobs_datajob"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def import_queue(*, org, user, rows: int, folder: Path):
    from bench_import import ACCOUNTS, csv_generate

    from business.models import Account
    from wizard.services import import_configure, import_create, import_start

    # The file names its accounts "Account <n>": they exist, as in the import benchmark.
    Account.objects.bulk_create(
        [Account(organization=org, name=f"Account {i}") for i in range(ACCOUNTS)],
        ignore_conflicts=True,
    )
    path = folder / "contacts.csv"
    csv_generate(path, rows, seed=int(time.time()))
    with open(path, "rb") as fh:
        job = import_create(
            organization=org, user=user, resource="contacts", file=fh, filename="contacts.csv"
        )
    import_configure(job=job, on_duplicate="update", mode="skip-invalid")
    return import_start(job=job)


class User(threading.Thread):
    """One person clicking through the pages. While they read the jobs dashboard, their browser
    polls the running import's status row every second (htmx, templates/jobs/dashboard_status.html)."""

    def __init__(self, port, session, think, stop, results, poll_path=None):
        super().__init__(daemon=True)
        self.port, self.session, self.think = port, session, think
        self.stop, self.results, self.poll_path = stop, results, poll_path
        self.rng = random.Random()
        self.conn = None

    def get(self, name: str, path: str) -> None:
        started = time.perf_counter()
        status = 0
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request("GET", path, headers={"Cookie": f"sessionid={self.session}"})
            response = self.conn.getresponse()
            response.read()
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
        except (OSError, http.client.HTTPException):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
        self.results.append((name, status, time.perf_counter() - started))

    def run(self):
        pages = list(PAGES.items())
        i = self.rng.randrange(len(pages))
        if self.think:
            # People arrive at their own pace, not all in the same millisecond: a first click
            # after a random share of the reading time (with no think time, all at once).
            self.stop.wait(self.rng.uniform(0, 2 * self.think))
        while not self.stop.is_set():
            name, path = pages[i % len(pages)]
            i += 1
            self.get(name, path)
            if not self.think:
                continue
            reading = time.perf_counter() + self.rng.uniform(0, 2 * self.think)
            while not self.stop.is_set():
                left = reading - time.perf_counter()
                if name != "jobs dashboard" or not self.poll_path:
                    self.stop.wait(max(left, 0))
                    break
                if left <= 0:
                    break
                self.stop.wait(min(1.0, left))
                if time.perf_counter() < reading and not self.stop.is_set():
                    self.get(POLL, self.poll_path)


def web_cpu(pid: int) -> float:
    """CPU seconds of gunicorn's master and its workers: on a shared machine what the pages
    cost is this divided by the requests served, whatever the wall-clock waits."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return sum(measure.process_cpu(int(p)) or 0.0 for p in [pid, *children])


def database_cpu() -> float | None:
    """CPU seconds of the local PostgreSQL server so far: its live processes, plus the backends
    that have exited (the postmaster reaps them, so their time is in its children's total).
    A connection per request shows here: each one is a new backend process."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            folder = Path(cursor.fetchone()[0])
        postmaster = int((folder / "postmaster.pid").read_text().split()[0])
        fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    except Exception:  # a remote server, or a file this user may not read
        return None
    finally:
        connection.close()
    reaped = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
    return reaped + sum(measure.process_cpu(int(p)) or 0.0 for p in [postmaster, *children])


def access_log_times(path: Path, poll_path: str = "") -> dict[str, list[float]]:
    """Server milliseconds per page from gunicorn's access log (format '%(U)s %(s)s %(M)s')."""
    by_path = {v.split("?")[0]: k for k, v in PAGES.items()}
    if poll_path:
        by_path[poll_path.split("?")[0]] = POLL
    times: dict[str, list[float]] = {}
    for line in path.read_text().splitlines():
        m = re.match(r"(\S+) (\d+) (\d+)$", line.strip())
        if m and m.group(1) in by_path:
            times.setdefault(by_path[m.group(1)], []).append(float(m.group(3)))
    return times


def api_burst(port: int, token: str, n: int) -> tuple[list[float], list[int]]:
    barrier = threading.Barrier(n)
    latencies: list[float] = []
    statuses: list[int] = []

    def one():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait()
        started = time.perf_counter()
        try:
            conn.request(
                "GET",
                "/api/v1/data-jobs/?page_size=20",
                headers={"Authorization": f"Bearer {token}"},
            )
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
        except (OSError, http.client.HTTPException):
            statuses.append(0)
        latencies.append(time.perf_counter() - started)
        conn.close()

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, statuses


def wait_ready(port: int, proc, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited; see its log")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/accounts/login/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer")


CPU_ORG_SLUG = "bench-web-cpu"


def _import_json() -> dict:
    """Summary, checkpoint and params the size of a 100k-row contacts import's (about 28, 28
    and 4 KB on PostgreSQL), for a dashboard whose rows weigh what real ones do."""
    errors = [
        {
            "row": 175 + i,
            "value": "Linus",
            "column": "First name",
            "message": f"Row {175 + i}, column 'First name': email 'person{i}@example.com' is "
            f"also on row {63 + i} with another first name: 'Grace' there, 'Linus' here "
            "(choose which row wins: repeats first or last)",
        }
        for i in range(100)
    ]
    counts = {"created": 98_483, "failed": 1_517, "skipped": 0, "updated": 0}
    mapping = {f"Column {i}": f"field_{i}" for i in range(12)}
    return {
        "summary": {"mode": "skip-invalid", "total": 100_000, **counts, "errors": errors},
        "checkpoint": {"rows": 100_000, "counts": counts, "errors": errors},
        "params": {"mode": "skip-invalid", "mapping": mapping, "rules": {}, "dry_run": False},
    }


def cpu_run(args) -> None:
    """Per-request CPU and queries of the dashboard and its status poll (the docstring)."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.middleware import SESSION_KEY as ORG_SESSION_KEY
    from accounts.models import Membership, Organization
    from accounts.permissions import Role
    from jobs.models import DataJob

    measure.database_ready()
    call_command("collectstatic", verbosity=0, interactive=False)
    org, _ = Organization.objects.get_or_create(
        slug=CPU_ORG_SLUG, defaults={"name": "Bench web CPU"}
    )
    user, _ = get_user_model().objects.get_or_create(
        username="bench-web-cpu", defaults={"email": "bench-web-cpu@example.com"}
    )
    Membership.objects.get_or_create(user=user, organization=org, defaults={"role": Role.MANAGER})
    jobs_seed(org=org, user=user, count=args.jobs)
    from bench_export import seed

    seed(CPU_ORG_SLUG, args.contacts)  # the records page counts and lists them
    # A finished 100k-row import keeps tens of KB of JSON (its summary's first errors, its
    # checkpoint, its params): the newest imports of the history carry as much.
    heavy = _import_json()
    newest = DataJob.objects.filter(organization=org, job_type=DataJob.Type.IMPORT)
    DataJob.objects.filter(pk__in=newest.order_by("-created_at").values("pk")[:50]).update(**heavy)
    now = timezone.now()
    running = []
    for minutes in (0, 60):  # a live import and one whose worker stopped an hour ago
        job, _ = DataJob.objects.get_or_create(
            organization=org,
            user=user,
            job_type=DataJob.Type.IMPORT,
            status=DataJob.Status.RUNNING,
            target="contacts",
            input_filename=f"running-{minutes}.csv",
            defaults={"total": 100_000, "processed": 40_000, "succeeded": 40_000},
        )
        beat = now - dt.timedelta(minutes=minutes)
        DataJob.objects.filter(pk=job.pk).update(
            created_at=now, started_at=beat - dt.timedelta(seconds=5), heartbeat_at=beat
        )
        running.append(job)
    tables_analyze()
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    session = client.session
    session[ORG_SESSION_KEY] = org.pk
    session.save()
    pages = {
        "jobs dashboard": "/jobs/",
        POLL: f"/jobs/{running[0].pk}/status/?view=row",
        **{name: path for name, path in PAGES.items() if name != "jobs dashboard"},
    }
    print(f"database: {connection.settings_dict['NAME']} ({connection.vendor}); {args.jobs} jobs")
    print(f"{'page':<18} {'requests':>8}   CPU ms p50/p95   queries")
    for name, path in pages.items():
        for _ in range(5):  # templates compiled, caches warm
            assert client.get(path).status_code in (200, 286)
        cpu = []
        with CaptureQueriesContext(connection) as queries:
            for _ in range(args.cpu):
                before = time.process_time()
                response = client.get(path)
                cpu.append(1000 * (time.process_time() - before))
                assert response.status_code in (200, 286), response.status_code
        print(
            f"{name:<18} {args.cpu:>8}   {statistics.median(cpu):6.1f} {percentile(cpu, 95):6.1f}"
            f"   {len(queries) / args.cpu:7.1f}",
            flush=True,
        )
    print(f"load {os.getloadavg()[0]:.1f}")


def warm_up(port: int, sessions: list[str]) -> None:
    """Every page asked for by every user once, all at once, before the import and the clock
    start: each gunicorn worker has then loaded its templates and connected to the database, as
    a server that has been up a while has. Otherwise the first request of each page in each
    worker (seconds, not milliseconds) lands in a run's p95 of a few dozen requests."""
    results: list = []
    threads = []
    for session in sessions:
        user = User(port, session, 0, threading.Event(), results)
        threads.append(
            threading.Thread(target=lambda u=user: [u.get(n, p) for n, p in PAGES.items()])
        )
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds between clicks")
    parser.add_argument("--contacts", type=int, default=100_000, help="contacts already there")
    parser.add_argument("--jobs", type=int, default=100, help="finished jobs already there")
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument(
        "--min-seconds", type=float, default=0, help="load at least this long (default: the import)"
    )
    parser.add_argument("--api", type=int, default=50, help="concurrent API requests")
    parser.add_argument("--gunicorn", default="", help="extra gunicorn options, e.g. '--threads 4'")
    parser.add_argument(
        "--procfile",
        type=Path,
        default=None,
        help="another Procfile to run (A/B of its settings; default: the checkout's)",
    )
    parser.add_argument(
        "--cpu", type=int, default=0, help="N requests per page through the test client, no load"
    )
    args = parser.parse_args()
    if args.cpu:
        os.environ.update(DEPLOYED_ENV)
        measure.django_setup()
        return cpu_run(args)

    os.environ.update(DEPLOYED_ENV)
    measure.django_setup()
    from django.db import connection

    from jobs.models import DataJob

    org, user, sessions, token = setup(args)
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="ferry-bench-web-"))
    access_log = tmp / "access.log"
    web_cmd = procfile_command(
        "web",
        port,
        [
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(U)s %(s)s %(M)s",
            *shlex.split(args.gunicorn),
        ],
        args.procfile,
    )
    worker_cmd = procfile_command("worker", port, [], args.procfile)
    print(f"web:    {' '.join(web_cmd[1:])}\nworker: {' '.join(worker_cmd[1:])}", flush=True)
    print(f"database: {connection.settings_dict['NAME']} ({connection.vendor})", flush=True)
    connection.close()
    logs = open(tmp / "processes.log", "w")  # noqa: SIM115  closed at the end
    web = subprocess.Popen(web_cmd, cwd=measure.ROOT, stdout=logs, stderr=logs)
    worker = subprocess.Popen(
        worker_cmd, cwd=measure.ROOT, stdout=logs, stderr=logs, start_new_session=True
    )
    try:
        wait_ready(port, web)
        warm_up(port, sessions)
        job = import_queue(org=org, user=user, rows=args.import_rows, folder=tmp)
        print(f"import job {job.pk} queued ({args.import_rows:,} rows)", flush=True)
        deadline = time.time() + 300
        while DataJob.objects.get(pk=job.pk).status in ("queued", "pending") and (
            time.time() < deadline
        ):
            time.sleep(0.2)
        connection.close()
        access_log.write_text("")
        results: list = []
        stop = threading.Event()
        poll_path = f"/jobs/{job.pk}/status/?view=row"
        users = [User(port, s, args.think, stop, results, poll_path) for s in sessions]
        started = time.time()
        db_before = database_cpu()
        cpu_before = web_cpu(web.pid)
        for u in users:
            u.start()
        while True:
            time.sleep(1)
            status = DataJob.objects.get(pk=job.pk).status
            connection.close()
            if status not in ("queued", "pending", "running") and (
                time.time() - started >= args.min_seconds
            ):
                break
        stop.set()
        for u in users:
            u.join(timeout=35)
        elapsed = time.time() - started
        cpu_used = web_cpu(web.pid) - cpu_before
        db_after = database_cpu()
        job = DataJob.objects.get(pk=job.pk)
        print(
            f"\n{args.users} users, think {args.think:g} s, {elapsed:.1f} s of load; import "
            f"{job.status} ({job.summary.get('created', 0):,} created) in "
            f"{(job.finished_at - job.started_at).total_seconds() if job.finished_at else float('nan'):.1f} s; "
            f"{len(results) / elapsed:.1f} requests/s; load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        print(
            f"web CPU: {1000 * cpu_used / max(len(results), 1):.1f} ms per request "
            f"(gunicorn's processes, {cpu_used:.1f} s for {len(results)} requests)",
            flush=True,
        )
        if db_before is not None and db_after is not None:
            print(
                f"PostgreSQL CPU: {db_after - db_before:.1f} s (every backend: the import's and "
                f"the pages')",
                flush=True,
            )
        time.sleep(1)  # the access log is written after the response
        server = access_log_times(access_log, poll_path)
        print(
            f"{'page':<18} {'requests':>8} {'errors':>6}   client p50/p95/max ms   server p50/p95/max ms"
        )
        for name in [*PAGES, POLL]:
            mine = [r for r in results if r[0] == name]
            client = [1000 * r[2] for r in mine]
            # 286 tells htmx to stop polling: the job has finished.
            errors = sum(1 for r in mine if r[1] not in ((200, 286) if name == POLL else (200,)))
            srv = server.get(name, [])
            print(
                f"{name:<18} {len(mine):>8} {errors:>6}   "
                f"{statistics.median(client) if client else 0:6.0f} {percentile(client, 95):6.0f} "
                f"{max(client, default=0):6.0f}    "
                f"{statistics.median(srv) if srv else 0:6.0f} {percentile(srv, 95):6.0f} "
                f"{max(srv, default=0):6.0f}",
                flush=True,
            )
        if args.api:
            latencies, statuses = api_burst(port, token, args.api)
            errors = sum(1 for s in statuses if s != 200)
            ms = [1000 * x for x in latencies]
            print(
                f"\nAPI: {args.api} concurrent GET /api/v1/data-jobs/: {errors} errors; "
                f"p50 {statistics.median(ms):.0f} ms, p95 {percentile(ms, 95):.0f} ms, "
                f"max {max(ms):.0f} ms",
                flush=True,
            )
    finally:
        web.send_signal(signal.SIGTERM)
        os.killpg(worker.pid, signal.SIGTERM)
        for proc in (web, worker):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        logs.close()
        errors = [
            line
            for line in (tmp / "processes.log").read_text().splitlines()
            if "Traceback" in line or "ERROR" in line
        ]
        if errors:
            print(f"server log errors: {len(errors)}; first: {errors[0]}")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
