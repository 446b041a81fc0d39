"""Export benchmark: Ferry's writers against plain-library baselines, per format and size.

    .venv/bin/python bench/bench_export.py                      # 100k and 1M rows, PDF 10k
    .venv/bin/python bench/bench_export.py --sizes 20000 --pdf-rows 2000   # quick
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ferry .venv/bin/python bench/bench_export.py

It keeps a benchmark database (Django's test-database machinery with keepdb: a SQLite file under
var/ or a separate PostgreSQL database), seeds one organization per size with contacts through
``bulk_create`` (10 default export columns, an account referenced by name), and then runs each
measurement in a fresh subprocess so that peak RSS belongs to that format alone:

- ``baseline-csv``: ``values_list(...).iterator()`` of the same columns into ``csv.writer``
- ``baseline-xlsx``: the same rows appended to an openpyxl write-only workbook
- ``ferry-csv`` / ``ferry-xlsx`` / ``ferry-json``: ``export_render`` (filters, columns, writer)
- ``ferry-pdf``: ``export_render`` to PDF of ``--pdf-rows`` rows; the WeasyPrint worker
  processes' peak RSS is printed beside the parent's

Wall seconds, CPU seconds (user+sys, workers included) and peak RSS are printed; CPU time is
the fairer figure on a busy machine. Figures only: nothing passes or fails.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource as rusage
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

BENCH_DB = "ferry_bench_export"
FORMATS = ["csv", "xlsx", "json"]


def setup_django() -> None:
    import django

    django.setup()


# --- parent: database, seeds, orchestration --------------------------------------------------
def bench_database() -> str:
    """Create (or reuse) the benchmark database and return the name children connect to."""
    from django.conf import settings
    from django.db import connection

    default = settings.DATABASES["default"]
    if default["ENGINE"].endswith("sqlite3"):
        name = str(ROOT / "var" / f"{BENCH_DB}.sqlite3")
    else:
        name = BENCH_DB
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    return connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)


def seed(slug: str, rows: int) -> None:
    from accounts.models import Organization
    from business.models import Account, Contact

    org, _ = Organization.objects.get_or_create(slug=slug, defaults={"name": f"Bench {slug}"})
    have = Contact.objects.filter(organization=org).count()
    if have >= rows:
        return
    accounts = list(Account.objects.filter(organization=org))
    if not accounts:
        Account.objects.bulk_create(
            Account(organization=org, name=f"Account {i:04d}", city="Lyon") for i in range(500)
        )
        accounts = list(Account.objects.filter(organization=org))
    stages = ["lead", "prospect", "customer"]
    started = time.perf_counter()
    batch = []
    for i in range(have, rows):
        batch.append(
            Contact(
                organization=org,
                email=f"person{i}@bench.example",
                first_name=f"First{i % 997}",
                last_name=f"Last-name {i % 7919}",
                account=accounts[i % len(accounts)] if i % 4 else None,
                phone=f"+33 1 {i % 100:02d} {i % 1000:03d} {i % 10000:04d}",
                title="Purchasing lead" if i % 3 else "",
                lifecycle_stage=stages[i % 3],
                source="Trade show" if i % 5 == 0 else "Web",
                do_not_email=i % 11 == 0,
                birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=i % 20000),
            )
        )
        if len(batch) == 10_000:
            Contact.objects.bulk_create(batch)
            batch = []
    if batch:
        Contact.objects.bulk_create(batch)
    print(
        f"  seeded {rows - have:,} contacts in {slug} in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def run_child(mode: str, slug: str, db_name: str, outdir: Path) -> dict:
    env = dict(os.environ, FERRY_DB_NAME=db_name)
    out = outdir / f"{slug}-{mode}.out"
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--org", slug, "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{mode} on {slug} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    out.unlink(missing_ok=True)
    return result


def print_row(size_label: str, mode: str, r: dict, baseline: dict | None) -> None:
    ratio = ""
    if baseline is not None:
        ratio = (
            f"{r['seconds'] / baseline['seconds']:.2f}x wall, {r['cpu'] / baseline['cpu']:.2f}x cpu"
        )
    workers = ""
    if r.get("workers"):
        total = r["rss_mb"] + r["workers"] * r["workers_rss_mb"]
        workers = (
            f" + {r['workers']} workers ≤ {r['workers_rss_mb']:.0f} MB each = ≤ {total:.0f} MB"
        )
    print(
        f"{size_label:>6} {mode:<14} {r['rows']:>9,} rows {r['seconds']:8.1f} s wall "
        f"{r['cpu']:8.1f} s cpu {r['rows'] / r['seconds']:>9,.0f} rows/s "
        f"peak RSS {r['rss_mb']:6.0f} MB{workers}  {r['bytes'] / 1e6:8.1f} MB file  {ratio}"
        f"  [load {os.getloadavg()[0]:.1f}]",
        flush=True,
    )


def parent(args) -> None:
    setup_django()
    db_name = bench_database()
    print(f"benchmark database: {db_name}", flush=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    jobs = [(f"bench-{n}", n) for n in sizes]
    pdf_slug = f"bench-{args.pdf_rows}"
    for slug, n in [*jobs, (pdf_slug, args.pdf_rows)]:
        if n:
            seed(slug, n)
    from django.db import connection

    connection.close()
    print(
        f"\n{'size':>6} {'mode':<14} {'rows':>14} {'wall':>12} {'cpu':>14} {'rate':>16}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="ferry-bench-") as tmp:
        outdir = Path(tmp)
        for slug, n in jobs:
            label = f"{n // 1000}k" if n < 1_000_000 else f"{n / 1e6:g}M"
            base_csv = run_child("baseline-csv", slug, db_name, outdir)
            print_row(label, "baseline-csv", base_csv, None)
            base_xlsx = run_child("baseline-xlsx", slug, db_name, outdir)
            print_row(label, "baseline-xlsx", base_xlsx, None)
            for fmt in FORMATS:
                r = run_child(f"ferry-{fmt}", slug, db_name, outdir)
                baseline = {"csv": base_csv, "xlsx": base_xlsx}.get(fmt)
                print_row(label, f"ferry-{fmt}", r, baseline)
        if args.pdf_rows:
            r = run_child("ferry-pdf", pdf_slug, db_name, outdir)
            print_row(f"{args.pdf_rows // 1000}k", "ferry-pdf", r, None)


# --- child: one measurement ------------------------------------------------------------------
def vm_hwm_mb(pid: int | str = "self") -> float:
    """Peak RSS of one process since its exec (ru_maxrss would include the parent's, inherited
    across fork and exec)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class WorkerWatch(threading.Thread):
    """Samples the peak RSS of this process's child processes (the PDF render workers)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peaks: dict[str, float] = {}
        self.stopped = threading.Event()

    def children(self) -> set[str]:
        pids: set[str] = set()
        for task in Path("/proc/self/task").iterdir():
            try:
                pids.update((task / "children").read_text().split())
            except OSError:
                continue
        return pids

    def run(self) -> None:
        while not self.stopped.wait(0.1):
            for pid in self.children():
                self.peaks[pid] = max(self.peaks.get(pid, 0.0), vm_hwm_mb(pid))


def child(args) -> None:
    setup_django()
    from accounts.models import Organization
    from business.resources import resource_get
    from reports.exporters import NullProgress, export_render

    org = Organization.objects.get(slug=args.org)
    resource = resource_get("contacts")
    fields = list(resource.default_export_fields())
    paths = [f.export_path for f in fields]
    qs = resource.queryset(org).order_by("pk")
    out = args.out
    watch = WorkerWatch()
    watch.start()
    started = time.perf_counter()
    cpu0 = time.process_time()
    if args.child == "baseline-csv":
        rows = 0
        with open(out, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow([f.label for f in fields])
            for row in qs.values_list(*paths).iterator(chunk_size=2000):
                writer.writerow(row)
                rows += 1
    elif args.child == "baseline-xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Contacts")
        ws.append([f.label for f in fields])
        rows = 0
        for rows, row in enumerate(qs.values_list(*paths).iterator(chunk_size=2000), 1):  # noqa: B007
            ws.append(list(row))
        wb.save(out)
    else:
        fmt = args.child.removeprefix("ferry-")
        rows = export_render(
            organization=org,
            exporter=resource.name,
            format=fmt,
            params={},
            path=out,
            progress=NullProgress(),
        )["rows"]
    seconds = time.perf_counter() - started
    watch.stopped.set()
    children = rusage.getrusage(rusage.RUSAGE_CHILDREN)
    cpu = (time.process_time() - cpu0) + children.ru_utime + children.ru_stime
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": seconds,
                "cpu": cpu,
                "rss_mb": vm_hwm_mb(),
                "workers_rss_mb": max(watch.peaks.values(), default=0.0),
                "workers": len(watch.peaks),
                "bytes": os.path.getsize(out),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated row counts")
    parser.add_argument("--pdf-rows", type=int, default=10_000, help="0 skips the PDF run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--org", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
