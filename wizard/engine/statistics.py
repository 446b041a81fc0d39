"""The database's statistics of the table a run fills, good enough to plan its key lookups.

Each batch's keys are probed in the key's index (``matching._lookup_by_key``). PostgreSQL
plans that probe from its statistics; when they say the organization has next to no records
(a table never analyzed, or a tenant that had none when autovacuum last looked), an index
that starts with the organization and holds little else (``contact_org_legacy``: its key is
blank on most rows, so the index is small) looks as good as the key's own, and the planner
picks it: each probe then reads all of the organization's records. Measured with 100k
contacts on a table never analyzed: the first batch's lookup took 2.98 s (4,915 probes of
5,000 rows each) instead of ~10 ms. Autovacuum analyzes a table at most once a minute, and
only after a tenth of it changed, so a run does not wait for it:

- at the run's first batch, a table never analyzed is analyzed (cheap while it is small);
- each time what the run created doubled (from ``FIRST`` on), the planner's estimate of
  the organization's records is read (EXPLAIN, ~1 ms); under half of what the run created
  means the statistics do not know this organization yet: the table is analyzed.

ANALYZE reads a sample of 30,000 rows: 0.1-0.2 s whatever the table's size.
"""

from __future__ import annotations

import json
import logging

from django.db import DatabaseError, connection, transaction

logger = logging.getLogger(__name__)

FIRST = 5_000

# Another ANALYZE of the same table (a concurrent import, autovacuum) is not waited for: the
# next check tries again.
LOCK_TIMEOUT = "1s"


class TableStatistics:
    """``refresh(created)`` before each batch's lookups. Only on PostgreSQL, and only outside
    a transaction: inside one (an all-or-nothing run, a test's) the rows are not committed,
    so ANALYZE would not count them, and its lock would be held to the end."""

    def __init__(self, model, organization_id: int):
        meta = model._meta
        self.table = meta.db_table
        # Records of another's (an order's lines) are looked up through it: nothing to do.
        field = next((f for f in meta.concrete_fields if f.name == "organization"), None)
        self.org_column = field.column if field is not None else None
        self.organization_id = organization_id
        self.started = False
        self.next_at = FIRST

    def refresh(self, created: int) -> bool:
        """True if the table was analyzed now. Never fails the run: statistics only make its
        lookups faster (a catalog the database user may not read, say, changes nothing)."""
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return False
        if self.org_column is None:
            return False
        try:
            if not self.started:
                self.started = True
                if self._never_analyzed():
                    return self._analyze()
            if created < self.next_at:
                return False
            self.next_at = 2 * created
            if self._estimate() * 2 >= created:
                return False
        except DatabaseError as exc:
            logger.info("statistics of %s not checked: %s", self.table, exc)
            return False
        return self._analyze()

    def _never_analyzed(self) -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [self.table])
            row = cursor.fetchone()
        return row is not None and row[0] < 0

    def _estimate(self) -> float:
        """The planner's estimate of this organization's records."""
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {qn(self.table)} "
                f"WHERE {qn(self.org_column)} = %s",
                [self.organization_id],
            )
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return float(plan[0]["Plan"]["Plan Rows"])

    def _analyze(self) -> bool:
        quoted = connection.ops.quote_name(self.table)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                cursor.execute(f"ANALYZE {quoted}")
        except DatabaseError as exc:  # taken by another ANALYZE: the next check
            logger.info("ANALYZE %s skipped: %s", self.table, exc)
            return False
        return True
