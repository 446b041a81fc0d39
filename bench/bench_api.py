"""REST API benchmark: what the HTTP layer adds on top of the shared services.

    .venv/bin/python bench/bench_api.py                       # 2,000 jobs, 100,000-row upload
    .venv/bin/python bench/bench_api.py --jobs 500 --rows 20000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ferry .venv/bin/python bench/bench_api.py

In a throw-away database it measures, in-process through Django's test client:
- GET /api/v1/data-jobs/?page_size=50 with a token, with the session, and the bare selector
  (the same query and serializer without HTTP, auth, throttling) — requests/s of each;
- POST /api/v1/contacts/import/ of a generated CSV (upload, sniffing, inspection, draft,
  queueing): seconds and MB/s, beside import_create + import_start called directly.
Figures only: there is nothing to pass or fail.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("FERRY_TESTING", "1")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rate(label: str, seconds: float, count: int) -> None:
    print(f"  {label:<44} {count / seconds:>9,.0f} req/s  ({seconds * 1000 / count:.2f} ms each)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"api": "100000000/minute"}
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="ferry-bench-api-"))
    settings.FERRY["MAX_CONCURRENT_IMPORTS"] = 1_000_000
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


def run(args) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from rest_framework.test import APIClient, APIRequestFactory

    from accounts.models import Membership, Organization
    from api.serializers.jobs import DataJobSerializer
    from api.tokens import token_create
    from jobs.models import DataJob
    from tests.factories import UserFactory
    from wizard.services import import_create, import_start

    org = Organization.objects.create(name="Bench", slug="bench")
    user = UserFactory(username="bench")
    Membership.objects.create(user=user, organization=org, role="admin")
    DataJob.objects.bulk_create(
        DataJob(organization=org, user=user, job_type="export", target="contacts", format="csv")
        for _ in range(args.jobs)
    )
    _, raw = token_create(user=user, organization=org, name="bench")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    session = Client()
    session.force_login(user)
    url = "/api/v1/data-jobs/?page_size=50"
    print(f"API benchmark on {connection_vendor()}: {args.jobs:,} jobs, {args.requests} requests")
    for label, client in (("GET data-jobs (token)", api), ("GET data-jobs (session)", session)):
        assert client.get(url).status_code == 200
        started = time.perf_counter()
        for _ in range(args.requests):
            client.get(url)
        rate(label, time.perf_counter() - started, args.requests)
    request = APIRequestFactory().get(url)
    started = time.perf_counter()
    for _ in range(args.requests):
        page = list(DataJob.objects.filter(organization=org).select_related("user")[:50])
        _ = DataJobSerializer(page, many=True, context={"request": request}).data
    rate("same query + serializer, no HTTP", time.perf_counter() - started, args.requests)

    lines = ["Email,First name,Last name,Company,Phone"]
    lines += [
        f"person{n}@example.com,First{n},Last{n},Account {n % 500},+44 20 7946 {n % 10000:04d}"
        for n in range(args.rows)
    ]
    content = ("\n".join(lines) + "\n").encode()
    mb = len(content) / 1024**2
    print(f"Import start of a {args.rows:,}-row CSV ({mb:.1f} MB): upload, inspect, draft, queue")
    started = time.perf_counter()
    response = api.post(
        "/api/v1/contacts/import/",
        {"file": SimpleUploadedFile("people.csv", content)},
        format="multipart",
    )
    http_seconds = time.perf_counter() - started
    assert response.status_code == 202, response.content
    started = time.perf_counter()
    job = import_create(
        organization=org,
        user=user,
        resource="contacts",
        file=io.BytesIO(content),
        filename="people.csv",
    )
    import_start(job=job)
    direct_seconds = time.perf_counter() - started
    print(
        f"  {'POST /api/v1/contacts/import/':<44} {http_seconds:>8.2f} s  ({mb / http_seconds:.1f} MB/s)"
    )
    print(
        f"  {'import_create + import_start directly':<44} {direct_seconds:>8.2f} s  ({mb / direct_seconds:.1f} MB/s)"
    )
    print(
        f"  ratio API / direct: {http_seconds / direct_seconds:.2f}x   peak RSS {peak_rss_mb():.0f} MB"
    )


def connection_vendor() -> str:
    from django.db import connection

    return connection.vendor


if __name__ == "__main__":
    main()
