"""How fast the wizard's pages answer when the previewed file is large.

    .venv/bin/python bench/bench_wizard_pages.py                 # 100,000 rows
    .venv/bin/python bench/bench_wizard_pages.py --rows 20000    # quick
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ferry .venv/bin/python bench/bench_wizard_pages.py

It creates a throw-away test database, uploads a contacts CSV of N rows (1 % invalid dates) as a
draft, runs its dry run in-process (the preview stores one ImportRow per row), and then times
each page a person opens afterwards through Django's test client: the mapping page, the first,
a middle and the last page of the preview, the "only rows with problems" filter, an inline cell
fix (re-validation) and the run page; the problems panel (5 % bad stages, 2 % unknown
companies, 1 % bad dates) is timed on the preview's first view (its sums were made by the dry
run) and filtered by kind. Median of several requests, in milliseconds, then one more request's
query count and database time. Nothing in
these pages reads the uploaded file again. Figures only: nothing passes or fails.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("Email;Prénom;Nom;Anniversaire;Ville;Stage;Company\n")
        for n in range(rows):
            date = "1990-13-45" if n % 100 == 7 else f"19{50 + n % 50}-0{1 + n % 9}-1{n % 10}"
            # Messy like real exports: 5 % stages in another language, 2 % unknown companies
            # (the problems panel sums them by column, kind and value).
            stage = f"Kunde{n % 7}" if n % 20 == 3 else "lead"
            company = f"Unknown {n % 500}" if n % 50 == 11 else ""
            fh.write(
                f"person{n}@example.com;First{n};Last{n};{date};City {n % 300};{stage};{company}\n"
            )


def timed(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.files import File
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from accounts.permissions import Role
        from jobs.models import DataJob
        from jobs.services import job_run
        from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
        from wizard.models import ImportRow
        from wizard.services import import_create, import_preview_start, import_run

        org = OrganizationFactory(name="Bench", slug="bench")
        user = UserFactory(username="bench")
        MembershipFactory(user=user, organization=org, role=Role.OPS)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "contacts.csv"
            write_csv(path, args.rows)
            size_mb = path.stat().st_size / 1e6
            with path.open("rb") as fh:
                job = import_create(
                    organization=org,
                    user=user,
                    resource="contacts",
                    file=File(fh, name="contacts.csv"),
                    filename="contacts.csv",
                )
        job.params["mapping"].update(
            Anniversaire="birth_date", Stage="lifecycle_stage", Company="account"
        )
        job.save(update_fields=["params"])
        child = import_preview_start(job=job)
        started = time.perf_counter()
        job_run(child.pk, lambda j, progress: import_run(job=j, progress=progress))
        preview_seconds = time.perf_counter() - started
        child.refresh_from_db()
        first_summary = dict(child.summary)
        stored = ImportRow.objects.filter(job=job).count()
        invalid = ImportRow.objects.filter(job=job, status="invalid").order_by("row_number").first()

        client = Client()
        client.force_login(user)
        pages = stored // 25 + 1

        def get(name, **params):
            def call():
                response = client.get(reverse(f"wizard:{name}", args=[job.pk]), params)
                assert response.status_code == 200, response.status_code

            return call

        def preview_first():
            # The panel's sums are made by the dry run as it ends: the first view only reads
            # them. Timed on a copy of the summary as the run left it, so each sample is a
            # first view (a cell fix below adds to the list of edited rows).
            DataJob.objects.filter(pk=child.pk).update(summary=first_summary)
            get("preview")()

        def fix():
            url = reverse("wizard:cell_edit", args=[job.pk, invalid.row_number])
            response = client.post(url, {"column": "Anniversaire", "value": "1990-12-31"})
            assert response.status_code == 200

        print(f"database: {connection.vendor}; rows: {args.rows:,} ({size_mb:.1f} MB CSV)")
        print(
            f"dry run (preview) in-process: {preview_seconds:.1f} s "
            f"({args.rows / preview_seconds:,.0f} rows/s); ImportRows stored: {stored:,}; "
            f"status {child.status}"
        )
        print(f"{'page':<34} {'median ms':>10} {'queries':>8} {'SQL ms':>8}")
        for label, call in [
            ("map (configure & map)", get("map")),
            ("preview, first view", preview_first),
            ("preview, page 1", get("preview")),
            (f"preview, page {pages // 2}", get("preview", page=pages // 2)),
            (f"preview, page {pages} (last)", get("preview", page=pages)),
            ("preview, only rows with problems", get("preview", problems="1")),
            (
                "preview, filter by problem kind",
                get("preview", kind="not_a_choice", column="Stage"),
            ),
            ("inline cell fix (re-validate row)", fix),
            ("run", get("run")),
        ]:
            median = timed(call, args.repeat)
            with CaptureQueriesContext(connection) as queries:
                call()
            sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
            print(f"{label:<34} {median:>10.1f} {len(queries):>8} {sql_ms:>8.1f}")
        assert DataJob.objects.filter(pk=job.pk, status="pending").exists()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
