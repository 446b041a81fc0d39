"""Progress of a run that the pages can see while an all-or-nothing transaction is open."""

from __future__ import annotations

import time

from django.db import connection
from django.utils import timezone


class SideProgress:
    """Progress of an all-or-nothing run, written through a second connection.

    Inside the run's one long transaction the job's progress writes would stay invisible to
    the pages polling it until the end. On PostgreSQL a second connection (autocommit) makes
    them visible at once. (SQLite allows one writer at a time, so there the progress of an
    all-or-nothing import shows when it ends.)
    """

    def __init__(self, inner, *, job):
        from django.db import DEFAULT_DB_ALIAS, connections

        self.inner = inner
        self.job = job
        self.side = connections.create_connection(DEFAULT_DB_ALIAS)
        self.table = connection.ops.quote_name(self.job._meta.db_table)
        self._percent = -2
        self._last = 0.0

    def set_total(self, total):
        self.inner.set_total(total)

    def check_cancel(self, **kwargs):
        self.inner.check_cancel(**kwargs)

    def update(self, *, processed, succeeded=None, failed=None, skipped=None, force=False):
        # Not through the inner progress: its write would lock the job's row inside the long
        # transaction, and the second connection would then wait for it for ever.
        job = self.job
        job.processed = processed
        for name, value in (("succeeded", succeeded), ("failed", failed), ("skipped", skipped)):
            if value is not None:
                setattr(job, name, value)
        now = time.monotonic()
        percent = int(processed * 100 / job.total) if job.total else -1
        if not force and percent == self._percent and now - self._last < 1.0:
            return False
        self._percent, self._last = percent, now
        with self.side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET processed = %s, succeeded = %s, failed = %s, "
                "skipped = %s, heartbeat_at = %s WHERE id = %s",
                [job.processed, job.succeeded, job.failed, job.skipped, timezone.now(), job.pk],
            )
        return True

    def close(self):
        self.side.close()
