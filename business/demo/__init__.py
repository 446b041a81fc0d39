"""The demo business: "Demo Trading Co.", a hardware wholesaler with shops.

``demo_seed`` builds a coherent data set (accounts and their contacts, leads, a nested product
catalog with variants, warehouses and stores, customers with credit, credit transactions over
the last 120 days, six months of sales orders whose lines use real products, stock, movements
and an audit trail) for the demo organization and its three users.

Deterministic: every block of records draws from its own ``random.Random`` seeded with the
seed, the record type and the block number, so a record's content depends only on its position
and the seed, never on what already exists. Dates are offsets from today, so aging buckets
and "last six months" always have data; everything else is reproducible for a seed.

Idempotent: records are identified by their natural keys; a second run finds them and creates
nothing, a run with a larger ``scale`` tops up. Children (variants, order lines, stock items)
are written with their parent in one transaction, so a parent that exists has its children.

Fast: rows are built as plain dicts in blocks of ``BLOCK`` and written with one
``executemany``/``COPY`` per block (no model instances, no signals, no query per row); related
records are looked up once per block into dictionaries.

One module a part: ``data`` (volumes and words), ``seeder`` (plumbing), ``crm``, ``catalog``
and ``sales`` (the record types), ``service`` (``demo_seed``). The names callers use are
importable from here.
"""

from business.demo.data import BASE, DEMO_NAME, DEMO_SLUG, DEMO_USERS
from business.demo.seeder import rows_write
from business.demo.service import DemoResult, demo_seed

__all__ = ["BASE", "DEMO_NAME", "DEMO_SLUG", "DEMO_USERS", "DemoResult", "demo_seed", "rows_write"]
