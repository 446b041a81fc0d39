"""The inventory sync: connections, the two-way run, scheduling. Pages, CLI, API and tasks call these.

A sync is a normal import ``DataJob`` (target products) whose rows come from the external table
instead of a file: the same engine parses, validates, matches by SKU, writes in batches, keeps
the row log and records what it changed, so the job can be undone like any import. The
write-back that follows changes the external table in one transaction.

One module a part: ``connections`` (create, update, test, mapping preview), ``states`` (new,
changed, linked, sold), ``importing`` and ``writeback`` (the two halves of a run), ``runs`` (a
sync job's body and its claim), ``starting`` (queue, run now, the periodic queueing). The names
callers use are importable from here.
"""

from sync.services.connections import (
    ConnectionTest,
    connection_create,
    connection_mapping_preview,
    connection_test,
    connection_update,
)
from sync.services.report import MAX_DETAIL_KEYS, SYNC_TARGET, SyncReport
from sync.services.runs import sync_claims_release, sync_job_work, sync_links_owned
from sync.services.starting import DIRECTIONS, sync_run_now, sync_start, syncs_due_queue
from sync.services.states import row_states, sold_states

__all__ = [
    "DIRECTIONS",
    "MAX_DETAIL_KEYS",
    "SYNC_TARGET",
    "ConnectionTest",
    "SyncReport",
    "connection_create",
    "connection_mapping_preview",
    "connection_test",
    "connection_update",
    "row_states",
    "sold_states",
    "sync_claims_release",
    "sync_job_work",
    "sync_links_owned",
    "sync_run_now",
    "sync_start",
    "syncs_due_queue",
]
