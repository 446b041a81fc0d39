"""Per batch: resolve references by natural key and find existing records (duplicates).

Each relation costs one query per batch (``filter(key__in=…)``), plus one case-insensitive
retry for the keys still missing; existing duplicates cost one query per batch. Every query
is scoped to the importing organization: another organization's key never matches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models.functions import Lower

from business.resources import Resource, resource_get
from jobs.bulk import array_casts
from wizard.engine.validation import FieldPlan, Row

# At most this many distinct unresolved values are tallied per field for the preview.
UNRESOLVED_TALLY_LIMIT = 500
# At most this many resolved keys are remembered per reference field between batches.
REFERENCE_CACHE_LIMIT = 100_000
_ABSENT = object()


def references_lookup(
    *, organization, resource: type[Resource], key: str, values: Iterable[str]
) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Existing records by natural key: ({value: pk}, {value: [candidates]} for ambiguous ones).

    Exact matches first; the values still missing are retried ignoring case, where one match
    resolves and several are ambiguous.
    """
    wanted = {v for v in values if v}
    if not wanted:
        return {}, {}
    qs = resource.queryset(organization)
    found = dict(qs.filter(**{f"{key}__in": wanted}).values_list(key, "pk"))
    missing = wanted - found.keys()
    ambiguous: dict[str, list[str]] = {}
    if missing:
        folded: dict[str, list[tuple[str, int]]] = defaultdict(list)
        lowered = {m.lower() for m in missing}
        rows = qs.annotate(_k=Lower(key)).filter(_k__in=lowered).values_list(key, "pk")
        for text, pk in rows:
            folded[text.lower()].append((text, pk))
        for value in missing:
            matches = folded.get(value.lower())
            if not matches:
                continue
            if len(matches) == 1:
                found[value] = matches[0][1]
            else:
                ambiguous[value] = sorted(t for t, _ in matches)
    return found, ambiguous


class ReferenceResolver:
    """Resolves one batch's reference cells to primary keys, in place on the rows."""

    def __init__(self, *, run, plans: Sequence[FieldPlan]):
        self.run = run
        self.plans = [p for p in plans if p.is_ref]
        self.cache: dict[str, dict[str, int]] = {}

    def resolve(self, rows: Sequence[Row]) -> None:
        for plan in self.plans:
            self._resolve_field(plan, rows)

    def _resolve_field(self, plan: FieldPlan, rows: Sequence[Row]) -> None:
        run = self.run
        f = plan.field
        ref = f.ref
        name = f.name
        attname = plan.model_field.attname
        remap = run.settings.reference_map.get(name) or {}
        live = [row for row in rows if not row.errors]
        wanted: set[str] = set()
        add = wanted.add
        for row in live:
            value = row.values.get(name)
            if value:
                add(remap.get(value, value) if remap else value)
        target = resource_get(ref.resource)
        # Keys resolved in earlier batches are remembered (files repeat the same accounts,
        # products and customers on many rows), so only new keys cost a lookup.
        known = self.cache.setdefault(name, {})
        found = {v: known[v] for v in wanted if v in known}
        ambiguous: dict[str, list[str]] = {}
        if len(found) < len(wanted):
            more, ambiguous = references_lookup(
                organization=run.organization,
                resource=target,
                key=ref.key,
                values=wanted - found.keys(),
            )
            found.update(more)
            if len(known) + len(more) <= REFERENCE_CACHE_LIMIT:
                known.update(more)
        missing = wanted - found.keys() - ambiguous.keys()
        # A record the same file defines (earlier, or in this batch) is not missing.
        pending = run.pending_keys(ref.resource, missing) if missing else set()
        creatable = bool(ref.creatable and run.settings.create_missing.get(name))
        created: dict[str, int] = {}
        to_create = sorted(missing - pending)
        if to_create and creatable:
            created = run.references_create(target, ref.key, to_create)
            if len(known) + len(created) <= REFERENCE_CACHE_LIMIT:
                known.update(created)
        pks = {**created, **found} if created else found
        for row in live:
            values = row.values
            value = values.pop(name, _ABSENT)
            if value is _ABSENT:
                continue
            if not value:
                values[attname] = None
                continue
            key = remap.get(value, value) if remap else value
            pk = pks.get(key)
            if pk is not None:
                values[attname] = pk
                # Only a key this batch created counts as one that was missing.
                if created and key in created:
                    run.tally_unresolved(name, value)
                continue
            if key in ambiguous:
                row.error(
                    plan.column,
                    value,
                    f"{_quote(value)} matches several {target.label.lower()} "
                    f"({', '.join(ambiguous[key][:5])}); write it exactly as stored",
                    "ambiguous_reference",
                )
                continue
            if key in pending:
                row.values[attname] = None
                row.extra = row.extra or {}
                row.extra.setdefault("pending", []).append((attname, ref.resource, key))
                continue
            run.tally_unresolved(name, value)
            if creatable:
                # Dry run: the record would be created by the real run.
                row.values[attname] = None
                continue
            hint = (
                f" (tick 'create missing' for {f.label.lower()} or map it to an existing one)"
                if ref.creatable
                else " (map it to an existing one or import those first)"
            )
            row.error(
                plan.column,
                value,
                f"no {_singular(target)} with {ref.key.replace('_', ' ')} {_quote(value)}{hint}",
                "missing_reference",
            )


def _quote(value: Any) -> str:
    return f"'{value}'"


def _singular(resource: type[Resource]) -> str:
    return str(resource.model._meta.verbose_name)


def existing_lookup(
    *,
    organization,
    resource: type[Resource],
    key_attnames: Sequence[str],
    keys: Iterable[tuple],
    fields: Sequence[str],
) -> dict[tuple, Any]:
    """Existing records of this organization by natural key (one query).

    ``key_attnames`` and ``fields`` are model attribute names (``account_id`` for a reference).
    """
    keys = {k for k in keys if None not in k}
    if not keys:
        return {}
    meta = resource.model._meta
    # Plain rows made into instances without Model.__init__ (the costly part of a queryset).
    pk_name = meta.pk.attname
    attnames = list(dict.fromkeys([pk_name, "updated_at", *key_attnames, *fields]))
    model = resource.model
    state = _state_class()
    out = {}
    positions = [attnames.index(a) for a in key_attnames]
    for values in _key_rows(organization, resource, key_attnames, keys, attnames):
        key = tuple(values[i] for i in positions)
        if key in keys:
            obj = model.__new__(model)
            obj.__dict__.update(zip(attnames, values, strict=True))
            obj._state = state()
            obj._state.adding = False
            out[key] = obj
    return out


def existing_keys(
    *, organization, resource: type[Resource], key_attnames: Sequence[str], limit: int
) -> set[tuple] | None:
    """The keys (``key_attnames``) of all this organization's records, when they are at most
    ``limit`` (one query); else None."""
    keys = resource.queryset(organization).order_by().values_list(*key_attnames)
    found = list(keys[: limit + 1])
    if len(found) > limit:
        return None
    return set(found)


# Parameters one raw query may carry (SQLite's default limit is 32,766); more go the ORM's way.
_RAW_PARAMS_LIMIT = 30_000


def _key_rows(organization, resource, key_attnames, keys, attnames):
    """Rows of the records whose key is among ``keys`` (one query), as the ORM reads them.

    Text and integer keys go as plain SQL: the ORM prepares each of a batch's 2,000 IN
    parameters through a lookup and field (more CPU than the query); on PostgreSQL text keys
    travel as one string and each is probed in the index (``_lookup_by_key``). Either way
    each column's value passes the converters the ORM would apply (SQLite's dates, booleans
    and decimals; JSON as text on PostgreSQL), so the records compare alike.
    """
    meta = resource.model._meta
    plain_queryset = resource.queryset.__func__ is Resource.queryset.__func__
    columns = [{k[i] for k in keys} for i in range(len(key_attnames))]
    kinds = {type(part) for values in columns for part in values}
    raw = casts = None
    if plain_queryset and kinds <= {str, int}:
        if connection.vendor == "postgresql" and kinds == {str}:
            # The types to compare the keys as; None for JSON or array keys (the ORM's way).
            casts = array_casts([meta.get_field(a) for a in key_attnames])
            raw = "any" if casts is not None else None
        elif sum(len(c) for c in columns) < _RAW_PARAMS_LIMIT:
            raw = "in"
    if raw is None:
        qs = resource.queryset(organization)
        for attname, values in zip(key_attnames, columns, strict=True):
            qs = qs.filter(**{f"{attname}__in": values})
        return qs.values_list(*attnames)
    qn = connection.ops.quote_name
    column_of = {a: qn(meta.get_field(a).column) for a in {*attnames, *key_attnames}}
    table, org = qn(meta.db_table), qn(meta.get_field("organization").column)
    selected = ", ".join(column_of[a] for a in attnames)
    if raw == "any":
        key_columns = [column_of[a] for a in key_attnames]
        sql, params = _lookup_by_key(
            table, org, organization.pk, selected, key_columns, casts, keys
        )
    else:
        where = [
            f"{column_of[a]} IN ({', '.join(['%s'] * len(values))})"
            for a, values in zip(key_attnames, columns, strict=True)
        ]
        sql = f"SELECT {selected} FROM {table} WHERE {org} = %s AND {' AND '.join(where)}"
        params = [organization.pk, *(v for values in columns for v in values)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    converters = _converters(meta, attnames)
    if not converters:
        return rows
    out = []
    for row in rows:
        row = list(row)
        for i, convert, expression in converters:
            value = row[i]
            for fn in convert:
                value = fn(value, expression, connection)
            row[i] = value
        out.append(row)
    return out


def _lookup_by_key(table, org, org_pk, selected, key_columns, casts, keys) -> tuple[str, list]:
    """PostgreSQL, text keys: the query finding each key's records with one index probe a key.

    Not ``key = ANY(%s)``: with its default costs PostgreSQL reads all of the organization's
    records (a sequential scan, or the index on the organization alone) rather than look up
    5,000 keys once the table has a few hundred thousand rows. In an import of 1M contacts
    the lookups grew from 10 to 160-290 ms a batch (14-18 s in all); a parallel sequential
    scan of 1M rows took 152 ms and three processes where the probes take 10 ms. A subquery
    per key (``LATERAL``, kept apart by ``OFFSET 0``) is planned for one key: the probe.
    Each key is compared as the column's type (``casts``), as ``= ANY`` compared them.
    """
    ordered = sorted(keys)
    arrays, params = [], []
    for i in range(len(key_columns)):
        array, param = _text_array([k[i] for k in ordered])
        arrays.append(array)
        params.append(param)
    names = [f"k{i}" for i in range(len(key_columns))]
    match = " AND ".join(
        f"{c} = k.{n}::{t}" for c, n, t in zip(key_columns, names, casts, strict=True)
    )
    sql = (
        f"SELECT t.* FROM unnest({', '.join(arrays)}) AS k({', '.join(names)}) "
        f"CROSS JOIN LATERAL (SELECT {selected} FROM {table} "
        f"WHERE {org} = %s AND {match} OFFSET 0) AS t"
    )
    return sql, [*params, org_pk]


# Text keys travel as one string the server splits: psycopg quotes an array of 5,000 e-mails
# element by element in Python (6 ms of the run's CPU a batch, on the thread whose GIL the
# writer waits for), one string in C (0.4 ms). The separator is a control character; keys
# holding it, or an empty key (string_to_array('') is no element), go as an array.
_SEPARATOR = "\x1f"


def _text_array(values: list[str]) -> tuple[str, Any]:
    """SQL for a text[] of ``values`` (in order, repeats kept) and its parameter."""
    joined = _SEPARATOR.join(values)
    if "" not in values and joined.count(_SEPARATOR) == len(values) - 1:
        return f"string_to_array(%s, chr({ord(_SEPARATOR)}))", joined
    return "%s::text[]", values


def _converters(meta, attnames: Sequence[str]) -> list[tuple[int, list, Any]]:
    """What the ORM's compiler applies to each selected column (``SQLCompiler.get_converters``)."""
    out = []
    for i, attname in enumerate(attnames):
        expression = meta.get_field(attname).get_col(meta.db_table)
        convert = connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        )
        if convert:
            out.append((i, convert, expression))
    return out


def _state_class():
    from django.db.models.base import ModelState

    return ModelState
