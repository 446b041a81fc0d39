"""Import benchmark: a realistic contacts CSV through the whole engine, against baselines.

    .venv/bin/python bench/bench_import.py --rows 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ferry .venv/bin/python bench/bench_import.py --rows 1000000

It creates a throw-away database (Django's test-database machinery: a separate SQLite file,
or a separate PostgreSQL database), generates a contacts CSV of N rows (10 columns, accounts
referenced by name, ~1 % duplicate e-mails, ~0.5 % invalid rows, ~5 % already in the
database), imports it end to end (read, map, validate, dedupe, resolve accounts, write, change
log) with skip-invalid and update-on-duplicate, and prints rows/s and peak RSS. Then it times
the baselines on the same data: plain ``bulk_create`` of pre-built objects and, on PostgreSQL,
``COPY``. Figures only: there is nothing to pass or fail.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("FERRY_TESTING", "1")

HEADERS = [
    "Email",
    "First name",
    "Last name",
    "Company",
    "Phone",
    "Job title",
    "Stage",
    "Source",
    "Do not e-mail",
    "Birth date",
]
FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Edsger",
    "Barbara",
    "Ken",
    "Donald",
    "Frances",
]
LAST = ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Dijkstra", "Liskov", "Thompson"]
TITLES = ["Buyer", "CTO", "Engineer", "Office manager", "Owner", "Purchasing lead", ""]
STAGES = ["lead", "Prospect", "customer", "Lead", ""]
SOURCES = ["Web", "Trade show", "Referral", "Cold call", ""]
ACCOUNTS = 1000


def backend_pid(connection) -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def process_cpu(pid: int | None) -> float | None:
    """User + system CPU seconds of a local process (None when it cannot be read)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb() -> float:
    """Peak resident memory of this process (VmHWM: ru_maxrss would carry over across exec)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def row_values(i: int, rng: random.Random) -> list[str]:
    # ~1 % of rows repeat an earlier e-mail (in-file duplicates, reported as row errors).
    n = rng.randrange(max(i, 1)) if i > 100 and rng.random() < 0.01 else i
    email = f"person{n}@example{n % 97}.com"
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=(i * 37) % 18000)
    row = [
        email,
        FIRST[i % len(FIRST)],
        LAST[(i // 7) % len(LAST)],
        f"Account {i % ACCOUNTS}",
        f"+44 20 7946 {i % 10000:04d}",
        TITLES[i % len(TITLES)],
        STAGES[i % len(STAGES)],
        SOURCES[(i // 3) % len(SOURCES)],
        "yes" if i % 11 == 0 else "no",
        birth.strftime("%d/%m/%Y"),
    ]
    r = rng.random()
    if r < 0.002:
        row[0] = f"not-an-email-{i}"
    elif r < 0.004:
        row[9] = "31/02/1990"
    elif r < 0.005:
        row[3] = f"Unknown company {i}"
    return row


def csv_generate(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for i in range(rows):
            writer.writerow(row_values(i, rng))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--profile", action="store_true", help="profile the import (pyinstrument)")
    parser.add_argument("--skip-baselines", action="store_true")
    args = parser.parse_args()
    if args.batch_size:
        os.environ["FERRY_IMPORT_BATCH_SIZE"] = str(args.batch_size)

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    # As deployed: with DEBUG on, Django keeps the text of the last 9,000 queries in memory
    # (each batch's IN lists are long), which would be counted as the import's memory.
    settings.DEBUG = False
    vendor = connection.vendor
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    tmpdir = Path(tempfile.mkdtemp(prefix="ferry-bench-"))
    settings.MEDIA_ROOT = tmpdir / "media"
    try:
        run(args, vendor, tmpdir)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)
        for p in sorted(tmpdir.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        tmpdir.rmdir()


def run(args, vendor: str, tmpdir: Path) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from accounts.models import Membership, Organization
    from accounts.permissions import Role
    from business.models import Account, Contact
    from wizard.models import ImportChange
    from wizard.services import import_configure, import_create, import_run_now

    n = args.rows
    print(
        f"Ferry import benchmark — {n:,} rows, {vendor}, batch size {settings.FERRY['IMPORT_BATCH_SIZE']}"
    )
    org = Organization.objects.create(name="Bench Ltd", slug="bench")
    user = get_user_model().objects.create_user("bench", "bench@example.com", "x")
    Membership.objects.create(user=user, organization=org, role=Role.ADMIN)
    Account.objects.bulk_create(
        [Account(organization=org, name=f"Account {i}") for i in range(ACCOUNTS)]
    )
    # ~5 % of the file's contacts exist already: those rows are updates (or unchanged).
    existing_step = 20
    for start in range(0, n, existing_step * 5000):
        # In chunks, so setting up does not raise the peak memory the import is judged by.
        Contact.objects.bulk_create(
            [
                Contact(organization=org, email=f"person{i}@example{i % 97}.com", first_name="Old")
                for i in range(start, min(n, start + existing_step * 5000), existing_step)
            ]
        )
    path = tmpdir / "contacts.csv"
    t = time.perf_counter()
    csv_generate(path, n)
    size = path.stat().st_size
    print(f"generated {path.name}: {size / 1e6:,.1f} MB in {time.perf_counter() - t:.1f}s")
    rss_before = rss_mb()

    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    server_pid = backend_pid(connection)
    server_cpu = process_cpu(server_pid)
    t = time.perf_counter()
    cpu = time.process_time()
    with open(path, "rb") as fh:
        job = import_create(
            organization=org, user=user, resource="contacts", file=fh, filename=path.name
        )
    import_configure(job=job, on_duplicate="update", mode="skip-invalid")
    job = import_run_now(job=job)
    elapsed = time.perf_counter() - t
    cpu = time.process_time() - cpu
    if server_cpu is not None:
        server_cpu = process_cpu(server_pid) - server_cpu
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    s = job.summary
    engine_rate = n / elapsed
    peak = rss_mb()
    print(
        f"engine: {job.status}; {s.get('created', 0):,} created, {s.get('updated', 0):,} updated, "
        f"{s.get('skipped', 0):,} skipped, {s.get('failed', 0):,} failed"
    )
    print(f"engine: {elapsed:.2f}s  {engine_rate:,.0f} rows/s end to end")
    # On a shared machine the wall clock includes waiting for a CPU; this process's own CPU
    # time (the database server's work on PostgreSQL is not in it) shows what the code costs.
    print(f"engine: {cpu:.2f}s CPU in this process  {n / cpu:,.0f} rows per CPU-second")
    if server_cpu is not None:
        # The import's own database session; with the importer's CPU, this is what one import
        # costs the machine, whatever else is running on it.
        print(
            f"engine: {server_cpu:.2f}s CPU in the PostgreSQL backend  "
            f"{n / (cpu + server_cpu):,.0f} rows per CPU-second, both together"
        )
    load = os.getloadavg()[0]
    print(f"machine load average: {load:.1f} on {os.cpu_count()} cores")
    print(f"peak RSS: {peak:,.0f} MB (before the import: {rss_before:,.0f} MB)")
    if job.status != "completed":
        print(f"engine error: {job.error_message}")
    if args.skip_baselines:
        return

    # Baselines on the same data: the same rows as ready-made objects, no parsing at all.
    Contact.objects.filter(organization=org).delete()
    ImportChange.objects.all().delete()
    accounts = dict(Account.objects.filter(organization=org).values_list("name", "pk"))
    rng = random.Random(7)
    seen = set()
    prepared = []
    for i in range(n):
        v = row_values(i, rng)
        if v[0] in seen or "@" not in v[0]:
            continue
        seen.add(v[0])
        prepared.append(i)
    del seen
    batch = settings.FERRY["IMPORT_BATCH_SIZE"]

    # Objects are built batch by batch outside the timer; only bulk_create is timed.
    rng3 = random.Random(7)
    wanted = set(prepared)
    bulk_time = 0.0
    written = 0
    pending = []
    for i in range(n):
        v = row_values(i, rng3)
        if i not in wanted:
            continue
        pending.append(
            Contact(
                organization=org,
                email=v[0],
                first_name=v[1],
                last_name=v[2],
                account_id=accounts.get(v[3]),
                phone=v[4],
                title=v[5],
                lifecycle_stage=(v[6] or "lead").lower(),
                source=v[7],
                do_not_email=v[8] == "yes",
            )
        )
        if len(pending) >= batch:
            t = time.perf_counter()
            Contact.objects.bulk_create(pending)
            bulk_time += time.perf_counter() - t
            written += len(pending)
            pending = []
    if pending:
        t = time.perf_counter()
        Contact.objects.bulk_create(pending)
        bulk_time += time.perf_counter() - t
        written += len(pending)
    bulk_rate = written / bulk_time
    print(
        f"baseline bulk_create: {written:,} pre-built objects in {bulk_time:.2f}s  {bulk_rate:,.0f} rows/s"
    )
    print(f"ratio engine / bulk_create: {engine_rate / bulk_rate:.2f}")

    if vendor == "postgresql":
        Contact.objects.filter(organization=org).delete()
        now = dt.datetime.now(dt.UTC)
        cols = (
            "organization_id, email, first_name, last_name, account_id, phone, title, "
            "lifecycle_stage, source, do_not_email, notes, legacy_id, created_at, updated_at"
        )
        rng4 = random.Random(7)
        t = time.perf_counter()
        copied = 0
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY business_contact ({cols}) FROM STDIN") as copy:
                for i in range(n):
                    v = row_values(i, rng4)
                    if i not in wanted:
                        continue
                    copy.write_row(
                        (
                            org.pk,
                            v[0],
                            v[1],
                            v[2],
                            accounts.get(v[3]),
                            v[4],
                            v[5],
                            (v[6] or "lead").lower(),
                            v[7],
                            v[8] == "yes",
                            "",
                            "",
                            now,
                            now,
                        )
                    )
                    copied += 1
        copy_time = time.perf_counter() - t
        copy_rate = copied / copy_time
        print(
            f"baseline COPY (incl. generating the rows): {copied:,} rows in {copy_time:.2f}s  "
            f"{copy_rate:,.0f} rows/s"
        )
        print(f"ratio engine / COPY: {engine_rate / copy_rate:.2f}")
    print(f"peak RSS at the end (baselines included): {rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
