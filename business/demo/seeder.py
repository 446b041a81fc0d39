"""The seeder's plumbing: a random generator per record type and block, counts by scale,
existing keys looked up once per block, rows written in bulk (``rows_write``).
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import unicodedata
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal

from django.db import models, transaction
from django.utils import timezone

from accounts.models import Organization
from business.demo.data import (
    BASE,
    BLOCK,
    CENT,
    NAME_KINDS,
    NAME_PREFIXES,
    NAME_ROOTS,
)
from jobs.bulk import inserter_for


def rows_write(model: type[models.Model], rows: list[dict], *, now: dt.datetime) -> None:
    """INSERT rows (dicts keyed by column attname) as fast as the database allows.

    Django's bulk_create prepares every value through the field API (about 10 µs per value),
    which alone would make a million 15-column contacts take minutes; the import engine's
    inserter (COPY on PostgreSQL, executemany on SQLite) takes the trusted demo values as they
    are. Missing columns get the field default; auto_now(_add) columns get ``now``.
    """
    if not rows:
        return
    inserter = inserter_for(model)
    defaults = {f.attname: f.get_default() for f in inserter.fields}
    inserter.insert(rows, now=now, defaults=defaults)


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@functools.lru_cache(maxsize=4096)
def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _blocks(total: int) -> Iterator[tuple[int, int, int]]:
    for number, start in enumerate(range(0, total, BLOCK)):
        yield number, start, min(total, start + BLOCK)


class SeederBase:
    def __init__(self, *, organization: Organization, scale: int, seed: int, today: dt.date):
        self.org = organization
        self.org_id = organization.pk
        self.scale = scale
        self.seed = seed
        self.today = today
        self.now = timezone.now()
        self.created: dict[str, int] = {}
        self.warehouse_list: list[tuple[int, bool]] = []
        # Company names: a fixed shuffle of prefix × root × kind, numbered once exhausted.
        combos = [f"{p}{r} {k}" for p in NAME_PREFIXES for r in NAME_ROOTS for k in NAME_KINDS]
        random.Random(f"{seed}:company-names").shuffle(combos)
        self.company_combos = combos

    # -- plumbing ------------------------------------------------------------------------------
    def rng(self, label: str, block: int) -> random.Random:
        return random.Random(f"{self.seed}:{label}:{block}")

    def count(self, label: str) -> int:
        return BASE[label] * self.scale

    def company_name(self, i: int) -> str:
        n = len(self.company_combos)
        name = self.company_combos[i % n]
        return name if i < n else f"{name} {i // n + 1}"

    def _existing(self, model, key: str, keys: list) -> set:
        found: set = set()
        # Chunked: SQLite caps the number of parameters in one statement.
        for start in range(0, len(keys), 2000):
            found.update(
                model._default_manager.filter(
                    organization_id=self.org_id, **{f"{key}__in": keys[start : start + 2000]}
                ).values_list(key, flat=True)
            )
        return found

    def insert(
        self,
        label: str,
        model: type[models.Model],
        rows: list[dict],
        *,
        key: str | None,
        check: bool,
        after: Callable[[list[dict]], None] | None = None,
    ) -> list[dict]:
        """Write the rows whose key is new (all of them when ``check`` is False).

        ``after`` runs in the same transaction, so children are written with their parents.
        """
        if check and key is not None and rows:
            existing = self._existing(model, key, [row[key] for row in rows])
            if existing:
                rows = [row for row in rows if row[key] not in existing]
        if not rows:
            return []
        with transaction.atomic():
            self.write(label, model, rows)
            if after is not None:
                after(rows)
        return rows

    def write(self, label: str, model: type[models.Model], rows: list[dict]) -> None:
        if rows:
            rows_write(model, rows, now=self.now)
            self.created[label] = self.created.get(label, 0) + len(rows)

    def pks(self, model, key: str, keys: list) -> dict:
        """Natural key → primary key for rows just written (one query per 2,000 keys)."""
        found: dict = {}
        for start in range(0, len(keys), 2000):
            found.update(
                model._default_manager.filter(
                    organization_id=self.org_id, **{f"{key}__in": keys[start : start + 2000]}
                ).values_list(key, "pk")
            )
        return found

    def has_rows(self, model) -> bool:
        return model._default_manager.filter(organization_id=self.org_id).exists()

    def key_map(self, model, key: str) -> dict:
        return dict(
            model._default_manager.filter(organization_id=self.org_id).values_list(key, "pk")
        )

    def children_attach(
        self, model, key: str, parents: list[dict], pairs: list[tuple[dict, dict]], fk: str
    ) -> tuple[dict, list[dict]]:
        """The new parents' pks, and the children of those parents pointed at them: a parent
        that already existed (a top-up) was written with its children the first time."""
        pks = self.pks(model, key, [p[key] for p in parents])
        children = []
        for parent, child in pairs:
            if parent[key] in pks:
                child[fk] = pks[parent[key]]
                children.append(child)
        return pks, children

    def days_ago(self, days: int) -> dt.date:
        return self.today - dt.timedelta(days=days)
