"""seed_demo benchmark: how fast the demo business is built at a large scale.

    .venv/bin/python bench/bench_seed.py                  # scale 1000: 1,000,000 contacts
    .venv/bin/python bench/bench_seed.py --scale 50       # quicker
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ferry .venv/bin/python bench/bench_seed.py

It creates a throw-away database (Django's test-database machinery: a separate SQLite file or
a separate PostgreSQL database), runs ``demo_seed`` at the scale asked for, then runs it again
(the idempotent pass that finds everything present), and prints rows per table, rows/s,
contacts/s and the peak RSS. Figures only: there is nothing to pass or fail.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("FERRY_TESTING", "1")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1000, help="1000 gives 1,000,000 contacts")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-second-pass", action="store_true", help="skip the idempotent rerun")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from business.demo import BASE, demo_seed

    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        print(
            f"seed_demo --scale {args.scale} --seed {args.seed} on {connection.vendor} "
            f"({BASE['contacts'] * args.scale:,} contacts expected)"
        )
        rss_before = peak_rss_mb()
        started = time.perf_counter()
        result = demo_seed(scale=args.scale, seed=args.seed)
        seconds = time.perf_counter() - started
        rows = result.rows_created
        contacts = result.created.get("contacts", 0)
        width = max(len(name) for name in result.totals)
        for name, total in result.totals.items():
            print(f"  {name:<{width}}  {total:>12,}")
        print("seconds per step:")
        for label, spent in result.timings.items():
            print(f"  {label:<24} {spent:>8.1f} s")
        contacts_seconds = result.timings.get("contacts", 0.0)
        if contacts_seconds:
            print(
                f"contacts alone    {contacts:>12,} in {contacts_seconds:.1f} s "
                f"({contacts / contacts_seconds:,.0f} rows/s)"
            )
        print(f"rows created      {rows:>12,}")
        print(f"seconds           {seconds:>12.1f}")
        print(f"rows/s            {rows / seconds:>12,.0f}")
        print(f"contacts          {contacts:>12,}")
        print(f"peak RSS          {peak_rss_mb():>12,.0f} MB (before seeding {rss_before:,.0f} MB)")
        if not args.no_second_pass:
            started = time.perf_counter()
            again = demo_seed(scale=args.scale, seed=args.seed)
            print(
                f"second pass       {time.perf_counter() - started:>12.1f} s, "
                f"{again.rows_created:,} rows created (idempotent)"
            )
            print(f"peak RSS          {peak_rss_mb():>12,.0f} MB")
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)
        # FERRY_TESTING gives this process its own Huey file under var/; leave nothing behind.
        from django.conf import settings

        filename = settings.HUEY.get("filename")
        if filename:
            for suffix in ("", "-wal", "-shm"):
                Path(filename + suffix).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
