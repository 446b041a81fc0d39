"""Which record each row stands for: its natural key, the fallback keys a resource declares
for rows whose key is blank (``Resource.fallback_keys``), numbers given in file order
(``Resource.numbering``: an order's lines), and rows that repeat a key already seen in the
same file (``Repeats``).

A row repeating an earlier row's key with the same values is one record, merged into it
("repeats merged", counted apart). A repeat whose values differ is a conflict, shown side by
side in the row log and settled by the run's ``repeats`` setting: ``fail`` (the default),
``first`` (the earliest row wins) or ``last`` (the latest row wins).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from business.resources import Resource
from wizard.engine.keys import key_hash
from wizard.engine.validation import FieldPlan, Row
from wizard.engine.writing import bulk_update_changed
from wizard.models import ImportRow
from wizard.parsing import quote

S = ImportRow.Status
REPEATS = ("fail", "first", "last")
# The first row's values are kept to name the differing columns of a conflict; past this many
# distinct keys only their hashes are (memory stays flat), and a conflict names no column.
REPEAT_DETAIL_LIMIT = 50_000
NO_KEY = "none"
KEY_COUNT = "key:"  # run counts (checkpointed with the rest) of the rows each key recognised
_EMPTY = 0


def _label(field) -> str:
    text = str(field.label)
    return text[:1].lower() + text[1:]


@dataclass
class KeySet:
    """One way to recognise a record: the natural key, or one of its fallback keys."""

    name: str  # "email", "first_name + last_name + account": what summaries count it under
    words: str  # "first name + last name + account": what messages say
    value_names: tuple[str, ...]  # where the parsed values sit in ``row.values``
    attnames: tuple[str, ...]  # the model attributes (references resolved) to look it up by
    column: str  # the column a message about this key points at
    primary: bool


class Repeats:
    """The first row of each key seen in this file, with a hash of its values.

    Parallel arrays of machine integers (key hash, values hash, row number, flags) in an
    open-addressing table, like ``SeenKeys``: a million keys cost ~64 MB at most, never a
    Python object per key.
    """

    CREATED = 1  # the first row's record is one this run creates

    def __init__(self, capacity: int = 1 << 12):
        self._alloc(capacity)
        self._count = 0
        self.detail: dict[int, dict[str, Any]] = {}

    def _alloc(self, capacity: int) -> None:
        self._keys = array("q", bytes(8 * capacity))
        self._hashes = array("q", bytes(8 * capacity))
        self._rows = array("q", bytes(8 * capacity))
        self._flags = bytearray(capacity)
        self._mask = capacity - 1

    def _slot(self, h: int) -> int:
        keys, mask = self._keys, self._mask
        i = h & mask
        while keys[i] != _EMPTY and keys[i] != h:
            i = (i + 1) & mask
        return i

    def find(self, h: int) -> tuple[int, int, int] | None:
        """(row number, values hash, flags) of the key's first row, or None."""
        i = self._slot(h)
        if self._keys[i] == _EMPTY:
            return None
        return self._rows[i], self._hashes[i], self._flags[i]

    def put(self, h: int, *, values_hash: int, row: int, values: dict | None) -> None:
        i = self._slot(h)
        if self._keys[i] == _EMPTY:
            self._keys[i] = h
            self._count += 1
        self._hashes[i] = values_hash
        self._rows[i] = row
        self._flags[i] = 0
        if values is not None and (h in self.detail or len(self.detail) < REPEAT_DETAIL_LIMIT):
            self.detail[h] = values
        if self._count * 2 > self._mask:
            self._grow()

    def flag(self, h: int, flag: int) -> None:
        i = self._slot(h)
        if self._keys[i] != _EMPTY:
            self._flags[i] |= flag

    def _grow(self) -> None:
        old = (self._keys, self._hashes, self._rows, self._flags)
        self._alloc((self._mask + 1) * 2)
        for h, vh, row, flags in zip(*old, strict=True):
            if h != _EMPTY:
                i = self._slot(h)
                self._keys[i], self._hashes[i], self._rows[i], self._flags[i] = h, vh, row, flags


def _values_hash(values: dict[str, Any], names: Sequence[str]) -> int:
    parts = tuple(values.get(n) for n in names)
    try:
        return hash(parts) or 1
    except TypeError:  # a JSON object's dict
        return hash(repr(parts)) or 1


class Identity:
    """Keys, numbering and repeats for one run (see the module's docstring)."""

    def __init__(self, run, plans: Sequence[FieldPlan]):
        self.run = run
        resource: type[Resource] = run.resource
        self.resource = resource
        self.policy = getattr(run.settings, "repeats", "fail") or "fail"
        by_name = {p.name: p for p in plans}
        meta = resource.model._meta
        numbering = resource.numbering
        self.numbered: str | None = None  # the attname numbers are given under
        self.number_within: str | None = None
        self.number_constant = False
        if numbering is not None and numbering.within in by_name:
            plan = by_name.get(numbering.field)
            if plan is None or plan.constant is None:
                self.numbered = meta.get_field(
                    resource.get_field(numbering.field).model_attr
                ).attname
                self.number_within = by_name[numbering.within].attname
                self.counters: dict[Any, int] = {}
            else:
                self.number_constant = True
        self.numbering = numbering

        def keyset(fields: Sequence[str], primary: bool) -> KeySet | None:
            names, attnames, labels = [], [], []
            for name in fields:
                plan = by_name.get(name)
                field = resource.get_field(name)
                attname = meta.get_field(field.model_attr).attname
                if plan is not None:
                    names.append(plan.attname)
                elif self.numbered == attname:
                    names.append(attname)
                else:
                    return None
                attnames.append(attname)
                labels.append(_label(field))
            first = by_name.get(fields[0])
            column = first.column if first is not None else str(resource.get_field(fields[0]).label)
            return KeySet(
                name=" + ".join(fields),
                words=" + ".join(labels),
                value_names=tuple(names),
                attnames=tuple(attnames),
                column=column,
                primary=primary,
            )

        sets = [keyset(resource.key, True)]
        sets += [keyset(fields, False) for fields in resource.fallback_keys]
        self.keysets: list[KeySet] = [k for k in sets if k is not None]
        self.all_words = [
            " + ".join(_label(resource.get_field(n)) for n in fields)
            for fields in (resource.key, *resource.fallback_keys)
        ]
        key_names = {n for k in self.keysets for n in k.value_names}
        self.compare = [p.attname for p in plans if p.attname not in key_names]
        self.compare_plans = {p.attname: p for p in plans}
        self.repeats = Repeats()
        self.counting = True

    # --- per batch, after parsing ------------------------------------------------------------

    def check(self, rows: list[Row], *, replay: bool = False) -> None:
        """Number, key and look for repeats, in file order.

        ``replay``: rows a resumed run skips (their counts are in the checkpoint already) are
        only keyed and numbered again, so what follows sees them.
        """
        self.counting = not replay
        counts = self.run.counts
        in_batch: dict[int, Row] = {}
        for row in rows:
            if row.errors:
                continue
            if self.numbered is not None:
                self._number(row)
            keyset, key = self._key(row)
            row.key = key
            if key is None:
                row.warn("", "", self._no_key_text())
                if self.counting:
                    counts[KEY_COUNT + NO_KEY] += 1
                continue
            row.keyset = keyset
            if self.counting:
                counts[KEY_COUNT + keyset.name] += 1
            if keyset.primary:
                self.run.seen[self.resource.name].add(key)
            self._repeat(row, key, keyset, in_batch)

    def _no_key_text(self) -> str:
        words = self.all_words
        listed = words[0] if len(words) == 1 else f"{', '.join(words[:-1])}, or {words[-1]}"
        return f"no key: will be created as new (no {listed})"

    def _number(self, row: Row) -> None:
        values = row.values
        within = values.get(self.number_within)
        if within is None or within == "":
            return
        given = values.get(self.numbered)
        last = self.counters.get(within, 0)
        if given is None or given == "":
            values[self.numbered] = last + 1
            self.counters[within] = last + 1
        elif given > last:
            self.counters[within] = given

    def _key(self, row: Row) -> tuple[KeySet | None, tuple | None]:
        values = row.values
        for keyset in self.keysets:
            key = tuple(values.get(n) for n in keyset.value_names)
            if any(part is None or part == "" for part in key):
                continue
            if keyset.primary:
                return keyset, key
            return keyset, (keyset.name, *key)
        return None, None

    def _repeat(self, row: Row, key: tuple, keyset: KeySet, in_batch: dict[int, Row]) -> None:
        h = key_hash(key)
        values = row.values
        vh = _values_hash(values, self.compare)
        found = self.repeats.find(h)
        keep = {n: values.get(n) for n in self.compare}
        if found is None:
            self.repeats.put(h, values_hash=vh, row=row.number, values=keep)
            in_batch[h] = row
            return
        first_row, first_hash, flags = found
        if first_hash == vh:
            row.status = S.MERGED
            if self.counting:
                self.run.counts["repeats_merged"] += 1
            return
        if self.counting:
            self.run.counts["repeats_conflicting"] += 1
        if self.number_constant and keyset.primary:
            # A constant number gives every row of a group the same key: not a repeat but a
            # numbering mistake, said as such.
            self._constant_number(row, key, first_row)
            return
        earlier = self.repeats.detail.get(h)
        differs = self._differences(earlier, values)
        shown = ", ".join(str(part) for part in key[0 if keyset.primary else 1 :])
        head = f"{keyset.words} {quote(shown)} is also on row {first_row}"
        if self.policy == "fail":
            self._tell(
                row,
                keyset,
                head,
                differs,
                "(choose which row wins: repeats first or last)",
                row.error,
            )
            return
        if self.policy == "first":
            row.status = S.MERGED
            self._tell(
                row,
                keyset,
                head,
                differs,
                f"(kept row {first_row}'s values: repeats first)",
                row.warn,
            )
            return
        # last: this row's values win from now on.
        self._tell(row, keyset, head, differs, "(this row's values win: repeats last)", row.warn)
        self.repeats.put(h, values_hash=vh, row=row.number, values=keep)
        self.repeats.flag(h, flags)
        before = in_batch.get(h)
        in_batch[h] = row
        if before is not None:
            # The earlier row is in this same batch and not written yet: it simply gives way.
            before.status = S.MERGED
            return
        row.extra = {**(row.extra or {}), "repeat_last": bool(flags & Repeats.CREATED)}

    def _constant_number(self, row: Row, key: tuple, first_row: int) -> None:
        numbering = self.numbering
        number_field = self.resource.get_field(numbering.field)
        within_field = self.resource.get_field(numbering.within)
        names = list(self.resource.key)
        within = key[names.index(numbering.within)]
        number = key[names.index(numbering.field)]
        row.error(
            str(number_field.label),
            number,
            f"{within_field.label.lower()} {quote(within)} has more than one "
            f"{_label(number_field)} {number} (first on row {first_row}): {number_field.label} "
            f"is set to {number} for every row. Leave {number_field.label} unmapped to number "
            f"the rows of each {_label(within_field)} in file order.",
        )

    def _differences(self, earlier: dict | None, values: dict) -> list[tuple[FieldPlan, Any, Any]]:
        if earlier is None:
            return []
        out = []
        for name in self.compare:
            old, new = earlier.get(name), values.get(name)
            if old != new:
                out.append((self.compare_plans[name], old, new))
        return out

    def _tell(self, row, keyset, head, differs, tail, say) -> None:
        if not differs:
            say(keyset.column, "", f"{head} with other values {tail}")
            return
        for plan, old, new in differs:
            raw = _raw(row, plan)
            say(
                plan.column,
                raw,
                f"{head} with another {_label(plan.field)}: {quote(_shown(old))} there, "
                f"{quote(_shown(new))} here {tail}",
            )

    # --- per batch, after references are resolved ----------------------------------------------

    def existing(self, rows: list[Row], fields: Sequence[str]) -> None:
        """Set ``row.existing`` from one query per key set used in the batch."""
        from wizard.engine.matching import existing_lookup

        run = self.run
        by_set: dict[int, list[Row]] = {}
        for row in rows:
            if row.errors or row.key is None or row.status == S.MERGED:
                continue
            by_set.setdefault(id(row.keyset), []).append(row)
        for group in by_set.values():
            keyset = group[0].keyset
            attnames = list(keyset.attnames)
            found = existing_lookup(
                organization=run.organization,
                resource=self.resource,
                key_attnames=attnames,
                keys=[tuple(r.values.get(a) for a in attnames) for r in group],
                fields=fields,
            )
            for row in group:
                row.existing = found.get(tuple(row.values.get(a) for a in attnames))

    def settle(self, rows: list[Row]) -> None:
        """After classifying: a 'last' repeat of a record this run creates updates it (without
        a change-log entry: undoing the import deletes the record anyway)."""
        run = self.run
        for row in rows:
            if not (row.extra and row.extra.get("repeat_last")) or row.errors:
                continue
            if row.status in (S.UPDATE, S.UNCHANGED, S.NEW) and row.existing is not None:
                obj = row.existing
                row.changes = {
                    a: (getattr(obj, a), row.values[a])
                    for a in run.mapped_attnames
                    if a in row.values and getattr(obj, a) != row.values[a]
                }
                row.extra["repeat_update"] = True
            row.status = S.MERGED

    def after(self, rows: list[Row]) -> None:
        """Once a batch's outcome is final: remember which keys' records this run creates."""
        for row in rows:
            if row.status == S.NEW and row.key is not None:
                self.repeats.flag(key_hash(row.key), Repeats.CREATED)

    def write(self, rows: list[Row]) -> None:
        objs, used = [], set()
        for row in rows:
            if not (row.extra and row.extra.get("repeat_update")) or not row.changes:
                continue
            obj = row.existing
            for attname, (_, new) in row.changes.items():
                setattr(obj, attname, new)
            obj._ferry_changed = set(row.changes)
            used |= obj._ferry_changed
            obj.updated_at = self.run.now
            objs.append(obj)
        if objs:
            bulk_update_changed(self.run.model, objs, used)

    def summary(self) -> dict[str, Any]:
        c = self.run.counts
        out = {
            "repeats": self.policy,
            "repeats_merged": c["repeats_merged"],
            "repeats_conflicting": c["repeats_conflicting"],
        }
        if self.resource.fallback_keys:
            order = [k.name for k in self.keysets]
            out["keys_used"] = {
                name: c[KEY_COUNT + name] for name in [*order, NO_KEY] if c[KEY_COUNT + name]
            }
        return out


def _raw(row: Row, plan: FieldPlan) -> Any:
    if plan.index is not None and plan.index < len(row.raw):
        value = row.raw[plan.index]
        return "" if value is None else value
    return ""


def _shown(value: Any) -> str:
    if value is None:
        return ""
    return str(value)
