"""Documents benchmark: N invoices (default 1,000) into a ZIP and into one merged PDF.

    .venv/bin/python bench/bench_documents.py                 # 1,000 invoices, 2 workers
    .venv/bin/python bench/bench_documents.py --orders 200 --workers 1 --modes zip
    .venv/bin/python bench/bench_documents.py --orders 200 --chunk-orders 1,10,40 --modes zip

It keeps a benchmark database (Django's test-database machinery with keepdb: a SQLite file under
var/ or a separate PostgreSQL database when DATABASE_URL says so), seeds the demo organization
at the scale that yields the orders asked for (500 orders per scale unit, 1-5 lines each), and
renders every order's invoice with ``documents_batch_render`` (``--chunk-orders``: orders per
WeasyPrint layout; 1 is the old one-layout-per-order way) — the same call the background
job and ``print_documents`` make, parallel worker processes included.

Printed per mode: orders, order lines, pages, wall seconds, orders/s, lines/s (rows), pages/s,
CPU seconds (parent + workers), and the peak RSS (VmHWM) of the parent and of every render
worker, sampled from /proc while they run. Figures only: nothing passes or fails.
"""

from __future__ import annotations

import argparse
import os
import resource as rusage
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

BENCH_DB = "ferry_bench_documents"


def bench_database() -> str:
    from django.conf import settings
    from django.db import connection

    default = settings.DATABASES["default"]
    if default["ENGINE"].endswith("sqlite3"):
        name = str(ROOT / "var" / f"{BENCH_DB}.sqlite3")
    else:
        name = BENCH_DB
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    return connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)


def _hwm_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


class PeakSampler(threading.Thread):
    """Samples the peak RSS of every child process (the render workers) until stopped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peaks: dict[int, int] = {}
        self.stop = threading.Event()

    def run(self):
        me = os.getpid()
        while not self.stop.wait(0.2):
            for pid in _children(me):
                hwm = _hwm_kib(pid)
                if hwm:
                    self.peaks[pid] = max(self.peaks.get(pid, 0), hwm)


class QuietProgress:
    def set_total(self, total):
        self.total = total

    def update(self, *, processed, **counts):
        return None

    def check_cancel(self, *, force=False):
        return None


def _cpu() -> float:
    own = rusage.getrusage(rusage.RUSAGE_SELF)
    kids = rusage.getrusage(rusage.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--modes", default="zip,merged")
    parser.add_argument(
        "--chunk-orders", default="", help="Orders per layout, comma-separated (default: Ferry's)."
    )
    args = parser.parse_args()

    import django

    django.setup()
    import logging

    from django.conf import settings

    # As deployed: with DEBUG on, Django keeps every query's text in memory.
    settings.DEBUG = False

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    bench_database()
    from business.demo import demo_seed
    from business.models import SalesOrderLine
    from business.writers.pdf import default_workers
    from reports.documents.kinds import Invoice
    from reports.documents.selectors import documents_orders
    from reports.documents.services import CHUNK_ORDERS, documents_batch_render

    scale = max(1, -(-args.orders // 500))
    started = time.perf_counter()
    result = demo_seed(scale=scale)
    print(f"seed: scale {scale} in {time.perf_counter() - started:.1f}s")
    org = result.organization
    pks = list(documents_orders(organization=org).values_list("pk", flat=True)[: args.orders])
    orders = documents_orders(organization=org, ids=pks)
    lines = SalesOrderLine.objects.filter(order_id__in=pks).count()
    workers = args.workers or default_workers()
    print(f"{len(pks):,} invoices, {lines:,} order lines, {workers} render worker(s), "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    chunks = [int(c) for c in args.chunk_orders.split(",") if c.strip()] or [CHUNK_ORDERS]
    print(f"{'mode':<8}{'chunk':>6}{'orders':>8}{'pages':>7}{'wall s':>8}{'cpu s':>8}{'orders/s':>10}"
          f"{'rows/s':>9}{'pages/s':>9}{'size MB':>9}  peak RSS MiB (parent | workers)")  # fmt: skip
    runs = [(mode, chunk) for chunk in chunks for mode in args.modes.split(",")]
    for mode, chunk in runs:
        sampler = PeakSampler()
        sampler.start()
        cpu0 = _cpu()
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / f"invoices.{mode}"
            res = documents_batch_render(
                organization=org,
                orders=orders,
                document=Invoice,
                mode=mode,
                path=out,
                progress=QuietProgress(),
                workers=workers,
                chunk_orders=chunk,
            )
            size = out.stat().st_size / 1e6
        wall = time.perf_counter() - t0
        cpu = _cpu() - cpu0
        sampler.stop.set()
        sampler.join()
        parent = (_hwm_kib(os.getpid()) or 0) / 1024
        peaks = " ".join(f"{kib / 1024:.0f}" for kib in sampler.peaks.values())
        print(
            f"{mode:<8}{chunk:>6}{res.orders:>8,}{res.pages:>7,}{wall:>8.1f}{cpu:>8.1f}"
            f"{res.orders / wall:>10.1f}{lines / wall:>9.1f}{res.pages / wall:>9.1f}{size:>9.1f}"
            f"  {parent:.0f} | {peaks}"
        )


if __name__ == "__main__":
    main()
