"""Database connections: persistent with a health check on PostgreSQL, per request on SQLite;
no parallel query on PostgreSQL unless asked for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.config import environ_outside_tests

ROOT = Path(__file__).resolve().parents[2]

SHOW = (
    "import json, django; django.setup(); from django.conf import settings; "
    "d = settings.DATABASES['default']; "
    "print(json.dumps([d['ENGINE'], d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], "
    "d.get('OPTIONS', {}).get('options'), d.get('OPTIONS', {}).get('connect_timeout')]))"
)


def database_settings(tmp_path, **env: str) -> list:
    environ = environ_outside_tests(
        "DATABASE_URL",
        "DB_CONN_MAX_AGE",
        "DB_CONN_HEALTH_CHECKS",
        "DB_PARALLEL_WORKERS",
        "DB_CONNECT_TIMEOUT",
        "FERRY_TESTING",
    )
    environ.update(
        DJANGO_SETTINGS_MODULE="config.settings", FERRY_VAR_DIR=str(tmp_path / "var"), **env
    )
    result = subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_keeps_postgresql_connections_between_requests_with_a_health_check(tmp_path):
    # No connection is opened: the settings alone.
    engine, max_age, health, *_ = database_settings(
        tmp_path, DATABASE_URL="postgres://ferry@db.example:5432/ferry"
    )
    assert engine == "django.db.backends.postgresql"
    assert max_age == 300
    assert health is True


def test_it_opens_a_sqlite_connection_per_request(tmp_path):
    engine, max_age, _, options, timeout = database_settings(tmp_path)
    assert engine == "django.db.backends.sqlite3"
    assert max_age == 0
    assert options is None
    assert timeout is None


def test_it_turns_parallel_query_off_on_postgresql_unless_asked_for(tmp_path):
    url = "postgres://ferry@db.example:5432/ferry"
    *_, options, _ = database_settings(tmp_path, DATABASE_URL=url)
    assert options == "-c max_parallel_workers_per_gather=0"
    *_, options, _ = database_settings(tmp_path, DATABASE_URL=url, DB_PARALLEL_WORKERS="2")
    assert options == "-c max_parallel_workers_per_gather=2"


def test_a_postgresql_server_that_does_not_answer_fails_in_seconds(tmp_path):
    url = "postgres://ferry@db.example:5432/ferry"
    assert database_settings(tmp_path, DATABASE_URL=url)[-1] == 10
    assert database_settings(tmp_path, DATABASE_URL=url, DB_CONNECT_TIMEOUT="3")[-1] == 3
    own = database_settings(tmp_path, DATABASE_URL=url + "?connect_timeout=5")[-1]
    assert int(own) == 5


@pytest.mark.parametrize("value", ["0", "60"])
def test_it_takes_the_connection_age_from_the_environment(tmp_path, value):
    _, max_age, health, *_ = database_settings(
        tmp_path,
        DATABASE_URL="postgres://ferry@db.example:5432/ferry",
        DB_CONN_MAX_AGE=value,
        DB_CONN_HEALTH_CHECKS="0",
    )
    assert max_age == int(value)
    assert health is False


@pytest.mark.django_db
def test_a_postgresql_connection_plans_no_parallel_workers():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"
