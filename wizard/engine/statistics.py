"""The database's statistics of the table a run fills, kept current while the run fills it.

Each batch's keys are looked up among the existing records (``existing_lookup``: one
``= ANY`` query). PostgreSQL plans that query from statistics that autovacuum refreshes at
most once a minute, and only after a tenth of the table changed. A run that takes an
organization from a few thousand records to a million in less than that leaves the planner
believing the organization has a few hundred rows: it reads all of them through the other
index that starts with the organization and filters by key, for every batch. Measured with
1M contacts (bench_import, statement log): 11 ms a batch at the start, 164 ms at the end,
18 s in all, more than the COPY of the rows themselves; the same query planned on current
statistics takes 10-30 ms at any size.

So the run analyzes its table itself, each time what it created has doubled, from
``FIRST`` rows on: five times for a million rows. Each costs 0.1-0.2 s whatever the size
(ANALYZE reads a sample of 30,000 rows; fewer columns or a smaller sample saved little, or
would leave the rest of the application coarser statistics until autovacuum's next pass).
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection, transaction

logger = logging.getLogger(__name__)

# Below this a wrong plan costs less than the ANALYZE: at 100k rows, ANALYZE from 10k on
# (three of them, 0.39 s) cost more than the lookups it sped up took in all (0.23 s).
FIRST = 50_000

# Another ANALYZE of the same table (a concurrent import, autovacuum) is not waited for: the
# next threshold tries again.
LOCK_TIMEOUT = "1s"


class TableStatistics:
    """``refresh(created)`` between batches: analyzes ``table`` when the run's ``created``
    records reached the next threshold. Only on PostgreSQL, and only outside a transaction:
    inside one (an all-or-nothing run, a test's) the rows are not committed, so ANALYZE
    would not count them, and its lock would be held to the end."""

    def __init__(self, table: str):
        self.table = table
        self.next_at = FIRST

    def refresh(self, created: int) -> bool:
        """True if the table was analyzed now."""
        if created < self.next_at:
            return False
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return False
        self.next_at = 2 * created
        quoted = connection.ops.quote_name(self.table)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                cursor.execute(f"ANALYZE {quoted}")
        except DatabaseError as exc:  # taken by another ANALYZE: the next threshold
            logger.info("ANALYZE %s skipped: %s", self.table, exc)
            return False
        return True
