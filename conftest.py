"""Fixtures shared by tests/ and e2e/: the cast of users, a real Huey consumer, Chromium.

The cast: ``org`` with ``owner`` (admin), ``manager``, ``member`` (ops) and ``viewer``;
``outsider`` has no membership at all; ``other_user`` is the admin of ``other_org``.
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.permissions import Role

ROOT = Path(__file__).resolve().parent
SAMPLES = (ROOT.parent / "shared" / "samples").resolve()
PASSWORD = "pass-Word-123"


def pytest_sessionfinish(session, exitstatus):
    # The Huey storage of this test run is a file under var/; remove it with the run.
    filename = settings.HUEY.get("filename")
    if filename:
        for suffix in ("", "-wal", "-shm"):
            Path(filename + suffix).unlink(missing_ok=True)


@pytest.fixture
def samples() -> Path:
    """The shared sample files; tests using them skip where the folder is absent."""
    if not SAMPLES.is_dir():
        pytest.skip(f"sample files not found at {SAMPLES} (a plain clone has no ../shared)")
    return SAMPLES


# --- the cast ------------------------------------------------------------------------------


def _member(org, username: str, role: str):
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory(username=username, email=f"{username}@example.com")
    MembershipFactory(user=user, organization=org, role=role)
    return user


@pytest.fixture
def org(db):
    from tests.factories import OrganizationFactory

    return OrganizationFactory(name="Demo Trading Co.", slug="demo")


@pytest.fixture
def other_org(db):
    from tests.factories import OrganizationFactory

    return OrganizationFactory(name="Rival Imports Ltd", slug="rival")


@pytest.fixture
def owner(org):
    return _member(org, "owner", Role.ADMIN)


@pytest.fixture
def manager(org):
    return _member(org, "manager", Role.MANAGER)


@pytest.fixture
def member(org):
    return _member(org, "member", Role.OPS)


@pytest.fixture
def viewer(org):
    return _member(org, "viewer", Role.VIEWER)


@pytest.fixture
def outsider(db):
    from tests.factories import UserFactory

    return UserFactory(username="outsider")


@pytest.fixture
def other_user(other_org):
    return _member(other_org, "other", Role.ADMIN)


def _client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(owner):
    return _client_for(owner)


@pytest.fixture
def manager_client(manager):
    return _client_for(manager)


@pytest.fixture
def member_client(member):
    return _client_for(member)


@pytest.fixture
def viewer_client(viewer):
    return _client_for(viewer)


@pytest.fixture
def other_client(other_user):
    return _client_for(other_user)


@pytest.fixture
def client_for():
    return _client_for


# --- a real SMTP server (aiosmtpd) -----------------------------------------------------------
# Scheduled exports and invitations are mailed; tests read what a real SMTP server received.

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """The aiosmtpd handler: keeps every accepted message; ``refuse`` makes it answer 451."""

    def __init__(self):
        self.messages: list = []
        self.refuse: str = ""
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.refuse:
            return self.refuse
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        msg.envelope_to = list(envelope.rcpt_tos)
        self.messages.append(msg)
        return "250 Message accepted for delivery"

    def wait(self, count: int = 1, timeout: float = 30.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return self.messages
            time.sleep(0.05)
        raise AssertionError(f"expected {count} mails, got {len(self.messages)}")


@pytest.fixture
def smtp(settings, monkeypatch):
    """Start the server and point Django (and consumers started after this) at it."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = SMTP_BACKEND
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    monkeypatch.setenv("EMAIL_BACKEND", SMTP_BACKEND)
    inbox.port = port
    yield inbox
    controller.stop()


@pytest.fixture
def smtp_down(settings):
    """SMTP settings pointing at a port where nothing listens."""
    settings.EMAIL_BACKEND = SMTP_BACKEND
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_TIMEOUT = 2


def parts(msg) -> dict:
    """text, html and attachments {filename: bytes} of a parsed message."""
    out = {"text": "", "html": "", "attachments": {}}
    for part in msg.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if filename:
            out["attachments"][filename] = part.get_payload(decode=True)
        elif part.get_content_type() == "text/plain":
            out["text"] = part.get_content()
        elif part.get_content_type() == "text/html":
            out["html"] = part.get_content()
    return out


# --- a real Huey consumer ------------------------------------------------------------------


def consumer_env() -> dict[str, str]:
    """Environment that points a consumer process at this test run's database and queue."""
    env = os.environ.copy()
    env["FERRY_TESTING"] = "1"
    env["FERRY_DB_NAME"] = str(connection.settings_dict["NAME"])
    env["HUEY_NAME"] = settings.HUEY["name"]
    if settings.HUEY.get("filename"):
        env["HUEY_SQLITE_PATH"] = settings.HUEY["filename"]
    env["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    env["EMAIL_BACKEND"] = settings.EMAIL_BACKEND
    # A test SMTP server (tests/reports/schedules) is reached at these.
    env["EMAIL_HOST"] = str(settings.EMAIL_HOST)
    env["EMAIL_PORT"] = str(settings.EMAIL_PORT)
    return env


@pytest.fixture
def huey_consumer(transactional_db, tmp_path):
    """Start ``manage.py run_huey`` as a separate process on the test database.

    Data the test creates must be committed for the consumer to see it, hence transactional_db.
    """
    from huey.contrib.djhuey import HUEY

    # Tasks queued by earlier transactional tests were never consumed; their job ids may now
    # belong to this test's jobs, so start every consumer on an empty queue.
    HUEY.flush()
    proc = consumer_start(tmp_path / "huey-consumer.log")
    yield proc
    consumer_stop(proc)


def consumer_start(log_path: Path) -> subprocess.Popen:
    """One ``run_huey`` process on this test run's database and queue, logging to ``log_path``
    (tests that need several consumers, as on several machines, call this more than once)."""
    log = open(log_path, "wb")  # noqa: SIM115  (held open for the process lifetime)
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_huey", "--workers", "2", "--worker-type", "thread"],
        cwd=ROOT,
        env=consumer_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    proc.log_path, proc.log = log_path, log
    time.sleep(0.5)
    if proc.poll() is not None:
        log.close()
        pytest.fail("Huey consumer did not start:\n" + log_path.read_text())
    return proc


def consumer_stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    proc.log.close()


def wait_for_job(job, *, timeout: float = 60.0, until=("completed", "failed", "cancelled")):
    """Poll the database until the job reaches one of the given statuses."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in until:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job.pk} still {job.status} after {timeout}s")


@pytest.fixture
def job_waiter():
    return wait_for_job


# --- Chromium for browser tests ------------------------------------------------------------

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    for candidate in (
        os.environ.get("CHROMIUM_PATH"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright. Skips outside CI when there is none; fails in CI."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI=true but no Chromium found (apt-get install chromium)")
        pytest.skip("Chromium not found at /usr/bin/chromium: browser tests skipped")
    # Playwright's sync API refuses to run inside an asyncio loop; Django's ORM must be allowed.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    context.set_default_timeout(20_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def screenshot_dir() -> Path:
    path = ROOT / "e2e" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def browser_login(page, live_server, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)


@pytest.fixture
def login():
    return browser_login
