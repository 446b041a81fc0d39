"""Helpers to make a schedule and run it in this process. The real SMTP server (``smtp``,
``smtp_down``, ``parts``) lives in the root conftest.py: invitations are mailed too."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

# Re-exported: the schedule tests import parts from here.
from conftest import parts  # noqa: F401


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sales(org):
    """A handful of sales so the sales report has rows and figures."""
    from tests.factories import CustomerFactory, SalesOrderFactory, SalesOrderLineFactory

    customer = CustomerFactory(organization=org, code="C1", name="Alpine Bikes")
    today = dt.date.today()
    for n, days in enumerate((1, 2, 3, 10, 40)):
        order = SalesOrderFactory(
            customer=customer, number=f"SO-{n}", order_date=today - dt.timedelta(days=days)
        )
        SalesOrderLineFactory(order=order, quantity=Decimal("2"), unit_price=Decimal("25.00"))
    return customer


def schedule_data(**overrides) -> dict:
    data = {
        "name": "Weekly sales",
        "exporter": "sales",
        "params": {},
        "period": "",
        "formats": ["xlsx", "pdf"],
        "frequency": "weekly",
        "weekdays": ["MO"],
        "run_time": "07:00",
        "timezone": "Europe/Zurich",
        "recipients": ["boss@example.com"],
        "cc": ["cc@example.com"],
        "bcc": ["audit@example.com"],
        "subject": "{report} for {organization} ({period})",
        "message": "Good morning, here is {report}: {rows} rows.",
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_schedule(org, manager):
    from reports.schedules.services import schedule_create

    def make(user=None, **overrides):
        return schedule_create(
            organization=org, user=user or manager, data=schedule_data(**overrides)
        )

    return make


def run_here(run):
    """Run a queued schedule run's job in this process (what the worker does)."""
    from reports.schedules.services import schedule_run_here

    return schedule_run_here(run=run)


@pytest.fixture
def run_now(manager):
    from reports.schedules.services import schedule_trigger

    def go(schedule, user=None):
        run = schedule_trigger(schedule=schedule, user=user or manager)
        return run_here(run)

    return go


@pytest.fixture
def two_consumers(transactional_db, tmp_path, smtp, monkeypatch):
    """Two ``run_huey`` processes on the same queue and database, as on two machines.

    Started after the SMTP server so their environment points at it; retries wait 1 s.
    """
    from huey.contrib.djhuey import HUEY

    from conftest import consumer_start, consumer_stop

    monkeypatch.setenv("FERRY_SCHEDULE_RETRY_BASE_SECONDS", "1")
    HUEY.flush()
    procs = [consumer_start(tmp_path / f"consumer-{n}.log") for n in range(2)]
    yield procs
    for proc in procs:
        consumer_stop(proc)


def consumer_logs(procs) -> str:
    return "\n".join(p.log_path.read_text() for p in procs)
