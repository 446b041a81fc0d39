"""Import benchmark: a contacts CSV through Ferry's engine, django-import-export and the limit.

    .venv/bin/python bench/bench_import.py --rows 100000 --repeat 3
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ferry .venv/bin/python bench/bench_import.py --rows 1000000
    .venv/bin/python bench/bench_import.py --rows 100000 --only ferry --profile   # where time goes

Needs the ``bench`` extra (``pip install -e '.[bench]'``). Everything comes from the app's
settings: the database server of DATABASE_URL (or SQLite under FERRY_VAR_DIR), in which it
creates a throw-away database by Django's test-database machinery (the name the settings give
test databases) and drops it at the end.

The file: N contacts, 10 columns, accounts referenced by name, ~1 % duplicate e-mails, ~0.5 %
invalid rows, ~5 % already in the database (updates). The sides, each in a fresh process,
interleaved round by round, from the same starting state:

- ``ferry``: the engine end to end (read, map, validate, dedupe, resolve accounts, write, row log
  and change log for undo) with skip-invalid and update-on-duplicate.
- ``ferry-serial``: the same with FERRY_IMPORT_OVERLAP=0: each batch read, prepared and written
  on the run's thread, one after the other, instead of written by the writer process while the
  next is prepared (what the overlap is worth; not run unless asked with --only).
- ``django-import-export``: a minimal ModelResource for contacts (e-mail as the id field, the
  account by name through ForeignKeyWidget, dates and booleans through its widgets),
  ``use_bulk``, the whole file as a tablib Dataset: what a Django developer would reach for.
- ``copy`` (PostgreSQL): the limit, i.e. what ``psql \\copy`` does: the same rows, already
  converted and deduplicated (outside the timer), streamed into ``COPY ... FROM STDIN`` into an
  empty table. ``executemany`` (SQLite): the same rows through one raw ``executemany`` per batch.

Figures only: nothing passes or fails.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import measure

# Test-database settings (per-process Huey name, local-memory cache): nothing of var/ is touched.
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
EXISTING_STEP = 20  # every 20th contact of the file is in the database already
ORG_SLUG = "bench"
COLUMNS = (
    "organization_id",
    "email",
    "first_name",
    "last_name",
    "account_id",
    "phone",
    "title",
    "lifecycle_stage",
    "source",
    "do_not_email",
    "birth_date",
    "notes",
    "legacy_id",
    "created_at",
    "updated_at",
)

# Empty is '' in these columns (an empty account or birth date is NULL).
TEXT_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "phone",
    "title",
    "lifecycle_stage",
    "source",
    "notes",
    "legacy_id",
)


def email_of(n: int, keys: str) -> str:
    """Contact n's e-mail. ``ordered``: person{n}, so a batch's e-mails are neighbours in the
    e-mail index (the best case for every side); ``random``: spread over the index as a real
    export's are (a multiplicative hash of n in front)."""
    if keys == "random":
        return f"p{(n * 2654435761) % 2**32:08x}.{n}@example{n % 97}.com"
    return f"person{n}@example{n % 97}.com"


def row_values(i: int, rng: random.Random, keys: str = "ordered") -> list[str]:
    # ~1 % of rows repeat an earlier e-mail (in-file duplicates, reported as row errors).
    n = rng.randrange(max(i, 1)) if i > 100 and rng.random() < 0.01 else i
    email = email_of(n, keys)
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


def csv_generate(path: Path, rows: int, seed: int = 7, keys: str = "ordered") -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for i in range(rows):
            writer.writerow(row_values(i, rng, keys))


def limit_rows_generate(source: Path, target: Path, *, org_id: int, accounts: dict) -> int:
    """The rows the limit sides load: converted, valid, first of each e-mail, as COPY's CSV."""
    now = dt.datetime.now(dt.UTC).isoformat()
    seen: set[str] = set()
    written = 0
    with (
        open(source, encoding="utf-8", newline="") as src,
        open(target, "w", encoding="utf-8", newline="") as out,
    ):
        reader = csv.reader(src)
        next(reader)
        writer = csv.writer(out)
        for v in reader:
            email = v[0]
            if email in seen or "@" not in email or v[9] == "31/02/1990":
                continue
            seen.add(email)
            birth = dt.datetime.strptime(v[9], "%d/%m/%Y").date().isoformat()
            writer.writerow(
                [
                    org_id,
                    email,
                    v[1],
                    v[2],
                    accounts.get(v[3], ""),
                    v[4],
                    v[5],
                    (v[6] or "lead").lower(),
                    v[7],
                    "t" if v[8] == "yes" else "f",
                    birth,
                    "",
                    "",
                    now,
                    now,
                ]
            )
            written += 1
    return written


# --- parent ----------------------------------------------------------------------------------
def state_reset(*, with_existing: bool, rows: int, keys: str = "ordered") -> None:
    """The starting state of every side: 1,000 accounts and (but for the limit) ~5 % of the
    file's contacts already there; no contacts or jobs beyond that."""
    from accounts.models import Organization
    from business.models import Contact
    from jobs.models import DataJob

    org = Organization.objects.get(slug=ORG_SLUG)
    DataJob.objects.filter(organization=org).delete()
    Contact.objects.filter(organization=org).delete()
    if not with_existing:
        return
    for start in range(0, rows, EXISTING_STEP * 5000):
        Contact.objects.bulk_create(
            Contact(organization=org, email=email_of(i, keys), first_name="Old")
            for i in range(start, min(rows, start + EXISTING_STEP * 5000), EXISTING_STEP)
        )


def parent(args) -> None:
    measure.django_setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from accounts.models import Membership, Organization
    from accounts.permissions import Role
    from business.models import Account

    vendor = connection.vendor
    limit_side = "copy" if vendor == "postgresql" else "executemany"
    sides = [
        s for s in ("ferry", "ferry-serial", "django-import-export", limit_side) if s in args.only
    ]
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    tmp = Path(tempfile.mkdtemp(prefix="ferry-bench-import-"))
    try:
        org = Organization.objects.create(name="Bench Ltd", slug=ORG_SLUG)
        user = get_user_model().objects.create_user("bench", "bench@example.com", "x")
        Membership.objects.create(user=user, organization=org, role=Role.ADMIN)
        Account.objects.bulk_create(
            Account(organization=org, name=f"Account {i}") for i in range(ACCOUNTS)
        )
        source = tmp / "contacts.csv"
        t = time.perf_counter()
        csv_generate(source, args.rows, keys=args.keys)
        accounts = dict(Account.objects.filter(organization=org).values_list("name", "pk"))
        prepared = tmp / "limit-rows.csv"
        limit_rows = limit_rows_generate(source, prepared, org_id=org.pk, accounts=accounts)
        print(
            f"Import benchmark — {args.rows:,} rows ({source.stat().st_size / 1e6:.1f} MB), "
            f"{vendor}, batch size {settings.FERRY['IMPORT_BATCH_SIZE']}; database "
            f"{connection.settings_dict['NAME']}; files made in {time.perf_counter() - t:.1f} s; "
            f"{limit_rows:,} rows for the limit; e-mails {args.keys}",
            flush=True,
        )
        connection.close()
        env = {
            "FERRY_DB_NAME": str(connection.settings_dict["NAME"]),
            "MEDIA_ROOT": str(tmp / "media"),
        }
        results: dict[str, list] = {side: [] for side in sides}
        for r, order in measure.rounds(sides, args.repeat):
            for side in order:
                state_reset(
                    with_existing=side not in {"copy", "executemany"},
                    rows=args.rows,
                    keys=args.keys,
                )
                connection.close()
                argv = ["--child", side, "--file", str(source), "--prepared", str(prepared)]
                if args.profile and side.startswith("ferry"):
                    argv.append("--profile")
                side_env = {
                    **env,
                    "FERRY_IMPORT_OVERLAP": "0" if side == "ferry-serial" else "1",
                }
                sample = measure.child_run(__file__, argv, side_env)
                results[side].append(sample)
                print(
                    f"  round {r + 1} {side:<22} {sample.wall:7.2f} s wall  "
                    f"{sample.cpu:6.2f} s py CPU  "
                    f"{'' if sample.db_cpu is None else f'{sample.db_cpu:6.2f} s DB CPU'}  "
                    f"{sample.rss_mb:5.0f} MB  {sample.extra}",
                    flush=True,
                )
        measure.table_print(
            results,
            against=limit_side if limit_side in sides else None,
            title=f"import {args.rows:,} contacts, {vendor}",
        )
    finally:
        connection.close()
        connection.creation.destroy_test_db(test_db, verbosity=0)
        shutil.rmtree(tmp, ignore_errors=True)


# --- children --------------------------------------------------------------------------------
def child_ferry(args, meter: measure.Meter) -> None:
    from django.contrib.auth import get_user_model

    from accounts.models import Organization
    from wizard.services import import_configure, import_create, import_run_now

    org = Organization.objects.get(slug=ORG_SLUG)
    user = get_user_model().objects.get(username="bench")
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
    with meter:
        if profiler:
            profiler.start()
        with open(args.file, "rb") as fh:
            job = import_create(
                organization=org, user=user, resource="contacts", file=fh, filename="contacts.csv"
            )
        import_configure(job=job, on_duplicate="update", mode="skip-invalid")
        job = import_run_now(job=job)
        if profiler:
            profiler.stop()
    s = job.summary
    meter.sample.rows = sum(s.get(k, 0) for k in ("created", "updated", "skipped", "failed"))
    meter.sample.extra = {
        "status": job.status,
        "created": s.get("created", 0),
        "updated": s.get("updated", 0),
        "failed": s.get("failed", 0),
    }
    if profiler:
        profile_print(profiler)


def profile_print(profiler) -> None:
    """The ten frames with the most self time (where the CPU goes), then the call tree."""
    totals: dict[tuple, float] = {}

    def walk(frame):
        key = (frame.function, frame.file_path_short, frame.line_no)
        totals[key] = totals.get(key, 0.0) + frame.total_self_time
        for c in frame.children:
            walk(c)

    root = profiler.last_session.root_frame()
    walk(root)
    total = root.time or 1.0
    print(f"top 10 frames by self time (of {total:.1f} s sampled):")
    for (fn, path, line), secs in sorted(totals.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  {secs:6.2f} s {100 * secs / total:5.1f} %  {fn}  {path}:{line}")
    tree = profiler.output_text(unicode=False, color=False, show_all=False)
    for line in tree.splitlines()[:140]:
        print(line)


def child_die(args, meter: measure.Meter) -> None:
    import tablib
    from import_export import fields, resources, widgets

    from accounts.models import Organization
    from business.models import Account, Contact

    org = Organization.objects.get(slug=ORG_SLUG)

    class AccountByName(widgets.ForeignKeyWidget):
        # Account names are looked up within the organization, as Ferry does.
        def get_queryset(self, value, row, *args, **kwargs):
            return Account.objects.filter(organization=org)

    class ContactResource(resources.ModelResource):
        email = fields.Field(attribute="email", column_name="Email")
        first_name = fields.Field(attribute="first_name", column_name="First name")
        last_name = fields.Field(attribute="last_name", column_name="Last name")
        account = fields.Field(
            attribute="account",
            column_name="Company",
            widget=AccountByName(Account, "name"),
        )
        phone = fields.Field(attribute="phone", column_name="Phone")
        title = fields.Field(attribute="title", column_name="Job title")
        lifecycle_stage = fields.Field(attribute="lifecycle_stage", column_name="Stage")
        source = fields.Field(attribute="source", column_name="Source")
        do_not_email = fields.Field(
            attribute="do_not_email", column_name="Do not e-mail", widget=widgets.BooleanWidget()
        )
        birth_date = fields.Field(
            attribute="birth_date", column_name="Birth date", widget=widgets.DateWidget("%d/%m/%Y")
        )

        class Meta:
            model = Contact
            fields = (
                "email",
                "first_name",
                "last_name",
                "account",
                "phone",
                "title",
                "lifecycle_stage",
                "source",
                "do_not_email",
                "birth_date",
            )
            import_id_fields = ("email",)
            use_bulk = True
            batch_size = 1000
            skip_unchanged = True
            skip_diff = True

        def get_queryset(self):
            return Contact.objects.filter(organization=org)

        def before_save_instance(self, instance, row, **kwargs):
            instance.organization = org
            instance.lifecycle_stage = (instance.lifecycle_stage or "lead").lower()

    with meter:
        with open(args.file, encoding="utf-8") as fh:
            dataset = tablib.Dataset().load(fh, format="csv")
        result = ContactResource().import_data(
            dataset, dry_run=False, raise_errors=False, use_transactions=True
        )
    totals = result.totals
    for row in result.rows:
        if row.errors:
            print(f"first row error: {row.errors[0].error!r}")
            break
    for row in result.invalid_rows[:1]:
        print(f"first invalid row: {row.error_dict}")
    meter.sample.rows = len(dataset)
    meter.sample.extra = {
        "new": totals.get("new", 0),
        "updated": totals.get("update", 0),
        "errors": totals.get("error", 0) + totals.get("invalid", 0),
    }


def child_copy(args, meter: measure.Meter) -> None:
    from django.db import connection

    with (
        meter,
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY business_contact ({', '.join(COLUMNS)}) FROM STDIN "
            f"(FORMAT csv, FORCE_NOT_NULL ({', '.join(TEXT_COLUMNS)}))"
        ) as copy,
        open(args.prepared, "rb") as fh,
    ):
        while block := fh.read(1 << 20):
            copy.write(block)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM business_contact")
        meter.sample.rows = cursor.fetchone()[0]


def child_executemany(args, meter: measure.Meter) -> None:
    from django.conf import settings
    from django.db import connection, transaction

    batch = settings.FERRY["IMPORT_BATCH_SIZE"]
    sql = (
        f"INSERT INTO business_contact ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join(['%s'] * len(COLUMNS))})"
    )
    rows = 0
    with meter, open(args.prepared, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        pending = []
        for v in reader:
            v[4] = v[4] or None
            v[9] = v[9] == "t"
            pending.append(v)
            if len(pending) == batch:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.executemany(sql, pending)
                rows += len(pending)
                pending = []
        if pending:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, pending)
            rows += len(pending)
    meter.sample.rows = rows


def child(args) -> None:
    measure.django_setup()
    from django.db import connection

    # The import's only child process is its writer (jobs/db_writer.py). On SQLite it does
    # the database's work, shown as DB CPU; on PostgreSQL its Python counts as the import's
    # and its server process's CPU as the database's (measure.Backends).
    meter = measure.Meter(
        connection,
        children_are_database=connection.vendor == "sqlite" and args.child.startswith("ferry"),
    )
    {
        "ferry": child_ferry,
        "ferry-serial": child_ferry,
        "django-import-export": child_die,
        "copy": child_copy,
        "executemany": child_executemany,
    }[args.child](args, meter)
    meter.emit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (medians)")
    parser.add_argument(
        "--only",
        default="ferry,django-import-export,copy,executemany",
        help="comma-separated sides (django-import-export takes ~10x Ferry's time)",
    )
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument(
        "--keys",
        choices=("ordered", "random"),
        default="ordered",
        help="e-mails in the index's order (best case) or spread as in a real export",
    )
    parser.add_argument("--profile", action="store_true", help="pyinstrument on Ferry's side")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--prepared", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.only = args.only.split(",")
    if args.batch_size:
        os.environ["FERRY_IMPORT_BATCH_SIZE"] = str(args.batch_size)
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    sys.exit(main())
