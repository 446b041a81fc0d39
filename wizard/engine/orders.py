"""Sales orders with their lines in one file.

Real exports write one row per line, with the order's fields either repeated on every row or
left blank on the continuation rows. Rows of one order are consecutive: a row continues the
current order when its order number is blank or the same. An order is written whole or not
at all: one invalid line fails every row of its order, so no half order is ever imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from jobs.errors import LimitExceeded
from wizard.engine.keys import SeenKeys
from wizard.engine.matching import ReferenceResolver, existing_lookup
from wizard.engine.run import ImportRun
from wizard.engine.validation import FieldPlan, MappingError, PlanList, Row, row_parse
from wizard.engine.writing import InstanceFactory, bulk_update_changed, changes_record, jsonable
from wizard.models import ImportRow
from wizard.parsing import quote

S = ImportRow.Status


class OrdersRun(ImportRun):
    # A run whose worker died goes on from its checkpoint: a batch never splits an order
    # (``batches``), so the checkpoint always falls between two orders, whatever batch size
    # the resumed run has; the committed rows are grouped again (``replay_parse``) so an
    # order number repeated after the checkpoint is still told apart from a new order.
    resumable = True

    def compile(self, sample):
        s = self.settings
        order_fields = {f.name for f in self.resource.importable_fields()}
        self.line_resource = self.resource.lines()
        line_fields = self._line_fields()
        for header, name in s.mapping.items():
            if name not in order_fields and name not in line_fields:
                raise MappingError(
                    f"Column '{header}' is mapped to '{name}', which is not a field of "
                    f"{self.resource.label.lower()} or their lines."
                )
        super().compile(sample)
        self.header_plans = PlanList(self.plans)
        self.line_plans = self._line_plans(self.date_formats)
        self.with_lines = bool(self.line_plans)
        if not self.with_lines:
            return
        # Continuation rows: order cells may be blank (inherit) or repeat the order's values.
        self.cont_plans = PlanList(_relaxed(p) for p in self.header_plans)
        self.number_plan = next(p for p in self.header_plans if p.name == "number")
        self.line_resolver = ReferenceResolver(run=self, plans=self.line_plans)
        self.line_attnames = [p.model_field.attname for p in self.line_plans]
        if "line_number" not in self.line_attnames:
            self.line_attnames.append("line_number")  # given in file order when absent
        self.line_factory = InstanceFactory(
            self.line_resource.model,
            organization_id=self.organization.pk,
            defaults=self._defaults(self.line_resource, self.line_plans),
        )
        self.line_seen = SeenKeys()
        self.counts.update(orders_created=0, orders_updated=0, lines_created=0, lines_updated=0)

    def _line_fields(self) -> set[str]:
        # The line's reference to its record is given by the rows' grouping, never by a column.
        return {
            f.name
            for f in self.line_resource.importable_fields()
            if f.ref is None or f.ref.resource != self.resource.name
        }

    def _line_plans(self, date_formats) -> list[FieldPlan]:
        s = self.settings
        line_fields = self._line_fields()
        from wizard.engine.validation import plans_compile

        plans = plans_compile(
            resource=self.line_resource,
            headers=self.headers,
            mapping={h: f for h, f in s.mapping.items() if f in line_fields},
            options={k: v for k, v in s.options.items() if k in line_fields},
            rules={k: v for k, v in s.rules.items() if k in line_fields},
            date_formats=date_formats,
            only=line_fields,
            rounding=s.rounding,
        )
        for p in plans:
            if p.name == "line_number":
                # Absent line numbers are given in file order, so the column is optional here.
                p.required = False
                p.blank = None
        return plans

    def _plans_for(self, resource, date_formats, only=None):
        if resource is self.resource:
            order_fields = {f.name for f in resource.importable_fields()}
            s = self.settings
            from wizard.engine.validation import plans_compile

            return plans_compile(
                resource=resource,
                headers=self.headers,
                mapping={h: f for h, f in s.mapping.items() if f in order_fields},
                options={k: v for k, v in s.options.items() if k in order_fields},
                rules={k: v for k, v in s.rules.items() if k in order_fields},
                date_formats=date_formats,
                only=order_fields,
                rounding=s.rounding,
            )
        return super()._plans_for(resource, date_formats, only)

    # --- batching: never split an order across two batches ---------------------------------

    def batches(self) -> Iterator[list[Row]]:
        number_header = next((h for h, f in self.settings.mapping.items() if f == "number"), None)
        index = self.header_index.get(number_header) if number_header is not None else None
        rows = iter(self.source)
        held = None
        limit = self.settings.limit
        taken = 0
        while True:
            size = self.batch_size if limit is None else min(self.batch_size, limit - taken)
            if size <= 0:
                return
            chunk = [held] if held is not None else []
            held = None
            chunk.extend(islice(rows, size - len(chunk)))
            if not chunk:
                return
            if index is not None and (limit is None or taken + len(chunk) < limit):
                last = _cell(chunk[-1].values, index)
                for source_row in rows:
                    number = _cell(source_row.values, index)
                    if number and number != last:
                        held = source_row
                        break
                    chunk.append(source_row)
            taken += len(chunk)
            if taken > self.max_rows:
                raise LimitExceeded(
                    f"The file has more than {self.max_rows:,} data rows, the most one import may "
                    "have. Split it into smaller files."
                )
            yield [self._row(sr) for sr in chunk]

    def replay_parse(self, rows: list[Row]) -> None:
        if not self.with_lines:
            super().replay_parse(rows)
            return
        # Only the order numbers the committed rows defined matter here: which of those
        # rows failed, and why, the replay reads from the row log.
        self.group(rows)

    # --- one batch --------------------------------------------------------------------------

    def process(self, rows: list[Row]) -> None:
        if not self.with_lines:
            super().process(rows)
            return
        groups = self.group(rows)

        def prepare() -> None:
            self.resolver.resolve([r for r in rows if not r.errors])
            self.line_resolver.resolve(rows)
            for group in groups:
                self.group_check(group)
            self.classify_groups(groups)

        if self.simulate:
            prepare()
            self.record(rows)
            return

        def work() -> None:
            prepare()
            self.write_groups(groups)

        # Orders, their lines and the references created for them stand or fall together:
        # a refused batch leaves nothing behind and its rows fail with the reason.
        self.write_guarded(rows, work)
        self.record(rows)

    def group(self, rows: list[Row]) -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = []
        current = None
        number_index = self.number_plan.index
        seen = self.seen[self.resource.name]
        width = self.width
        for row in rows:
            number = _cell(row.raw, number_index) if number_index is not None else ""
            if current is not None and (not number or number == current["number"]):
                row_parse(self.cont_plans, row, width)
                for p in self.cont_plans:
                    if p.index is not None and not _cell(row.raw, p.index) and p.constant is None:
                        row.values.pop(p.attname, None)
                row.values.pop("number", None)
                current["rows"].append(row)
            else:
                row_parse(self.header_plans, row, width)
                number = row.values.get("number") or number
                current = {"number": number, "rows": [row], "first": row}
                groups.append(current)
                if not row.errors and number:
                    row.key = (number,)
                    if not seen.add(row.key):
                        row.error(
                            self.number_plan.column,
                            number,
                            f"order {quote(number)} appears again, apart from its other rows "
                            "(keep the rows of one order together, or it is a duplicate)",
                        )
            if not row.errors:
                row_parse(self.line_plans, row, width)
        return groups

    def group_check(self, group: dict[str, Any]) -> None:
        first: Row = group["first"]
        header_attnames = [p.model_field.attname for p in self.header_plans]
        explicit, auto = set(), []
        for row in group["rows"][1:]:
            for attname in header_attnames:
                if (
                    attname in row.values
                    and not first.errors
                    and row.values[attname] != first.values.get(attname)
                ):
                    plan = next(p for p in self.header_plans if p.model_field.attname == attname)
                    row.error(
                        plan.column,
                        _raw(row, plan),
                        f"differs from row {first.number} of the same order "
                        f"({quote(_raw(first, plan))})",
                    )
        for row in group["rows"]:
            number = row.values.get("line_number")
            if number is None:
                auto.append(row)
            elif number in explicit:
                row.error(
                    self._line_column(),
                    number,
                    f"line {number} appears twice in order {quote(group['number'])}",
                )
            else:
                explicit.add(number)
        next_number = max(explicit, default=0)
        for row in auto:
            next_number += 1
            row.values["line_number"] = next_number
        bad = [r for r in group["rows"] if r.errors]
        if bad:
            for row in group["rows"]:
                if not row.errors:
                    row.error(
                        "",
                        "",
                        f"order {quote(group['number'])} was not imported because row {bad[0].number} has errors",
                    )
        group["valid"] = not bad

    def _line_column(self) -> str:
        for p in self.line_plans:
            if p.name == "line_number":
                return p.column
        return "line_number"

    def classify_groups(self, groups: list[dict[str, Any]]) -> None:
        header_attnames = [p.model_field.attname for p in self.header_plans]
        valid = [g for g in groups if g["valid"]]
        existing = existing_lookup(
            organization=self.organization,
            resource=self.resource,
            key_attnames=["number"],
            keys=[(g["number"],) for g in valid],
            fields=header_attnames,
        )
        policy = self.settings.on_duplicate
        existing_lines = {}
        order_ids = [o.pk for o in existing.values()]
        if order_ids and policy == "update":
            existing_lines = existing_lookup(
                organization=self.organization,
                resource=self.line_resource,
                key_attnames=["order_id", "line_number"],
                keys=[
                    (existing[(g["number"],)].pk, r.values["line_number"])
                    for g in valid
                    if (g["number"],) in existing
                    for r in g["rows"]
                ],
                fields=self.line_attnames,
            )
        for group in groups:
            rows = group["rows"]
            if not group["valid"]:
                group["status"] = S.INVALID
                for row in rows:
                    row.status = S.INVALID
                continue
            order = existing.get((group["number"],))
            group["order"] = order
            if order is None:
                group["status"] = S.NEW
                for row in rows:
                    row.status = S.NEW
                continue
            if policy == "create":
                group["status"] = S.INVALID
                for row in rows:
                    row.error(
                        self.number_plan.column,
                        group["number"],
                        "a sales order with this number already exists, and numbers must be unique, "
                        "so a new one cannot be created (choose skip or update)",
                    )
                    row.status = S.INVALID
                continue
            if policy == "skip":
                group["status"] = S.UNCHANGED
                for row in rows:
                    row.status = S.UNCHANGED
                continue
            first = group["first"]
            changes = {}
            for attname in header_attnames:
                if attname in first.values and getattr(order, attname) != first.values[attname]:
                    changes[attname] = (getattr(order, attname), first.values[attname])
            group["changes"] = changes
            group["status"] = S.UPDATE if changes else S.UNCHANGED
            for row in rows:
                line = existing_lines.get((order.pk, row.values["line_number"]))
                row.existing = line
                if line is None:
                    row.status = S.NEW
                    row.changes = None
                    continue
                line_changes = {
                    a: (getattr(line, a), row.values[a])
                    for a in self.line_attnames
                    if a in row.values and getattr(line, a) != row.values[a]
                }
                row.changes = {**(changes if row is first else {}), **line_changes}
                row.extra = {**(row.extra or {}), "line_changes": line_changes}
                row.status = S.UPDATE if row.changes else S.UNCHANGED
            if changes and first.status == S.UNCHANGED:
                first.status = S.UPDATE

    def write_groups(self, groups: list[dict[str, Any]]) -> None:
        now = self.now
        new_groups = [g for g in groups if g["status"] == S.NEW]
        header_attnames = [p.model_field.attname for p in self.header_plans]
        if new_groups:
            ids = self.factory.insert(
                [
                    {a: g["first"].values[a] for a in header_attnames if a in g["first"].values}
                    for g in new_groups
                ],
                now=now,
            )
            for g, pk in zip(new_groups, ids, strict=True):
                g["order_id"] = pk
            changes_record(job_id=self.job.pk, resource=self.resource.name, created=ids)
            self.counts["orders_created"] += len(ids)
        updated_orders = [g for g in groups if g["status"] == S.UPDATE and g.get("changes")]
        if updated_orders:
            objs, logged, used = [], [], set()
            for g in updated_orders:
                order = g["order"]
                before, after = {}, {}
                for attname, (old, new) in g["changes"].items():
                    setattr(order, attname, new)
                    before[attname], after[attname] = jsonable(old), jsonable(new)
                order._ferry_changed = set(g["changes"])
                used |= order._ferry_changed
                order.updated_at = now
                objs.append(order)
                logged.append((order.pk, before, after))
            bulk_update_changed(self.model, objs, used)
            changes_record(job_id=self.job.pk, resource=self.resource.name, updated=logged)
            self.counts["orders_updated"] += len(objs)
        new_lines, line_updates = [], []
        for g in groups:
            if g["status"] == S.INVALID:
                continue
            order_id = g["order_id"] if g["status"] == S.NEW else g["order"].pk
            for row in g["rows"]:
                if row.existing is None and row.status in (S.NEW, S.UPDATE):
                    values = {a: row.values[a] for a in self.line_attnames if a in row.values}
                    values["order_id"] = order_id
                    new_lines.append(values)
                elif row.existing is not None and (row.extra or {}).get("line_changes"):
                    line_updates.append(row)
        line_model = self.line_resource.model
        if new_lines:
            ids = self.line_factory.insert(new_lines, now=now)
            changes_record(job_id=self.job.pk, resource=self.line_resource.name, created=ids)
            self.counts["lines_created"] += len(ids)
        if line_updates:
            objs, logged, used = [], [], set()
            for row in line_updates:
                line = row.existing
                before, after = {}, {}
                for attname, (old, new) in row.extra["line_changes"].items():
                    setattr(line, attname, new)
                    before[attname], after[attname] = jsonable(old), jsonable(new)
                line._ferry_changed = set(row.extra["line_changes"])
                used |= line._ferry_changed
                line.updated_at = now
                objs.append(line)
                logged.append((line.pk, before, after))
            bulk_update_changed(line_model, objs, used)
            changes_record(job_id=self.job.pk, resource=self.line_resource.name, updated=logged)
            self.counts["lines_updated"] += len(objs)

    def _field_name(self, attname: str) -> str:
        for p in [*self.plans, *getattr(self, "line_plans", [])]:
            if p.model_field.attname == attname:
                return p.name
        return attname.removesuffix("_id")

    def extra_summary(self) -> dict[str, Any]:
        if not getattr(self, "with_lines", False):
            return {}
        c = self.counts
        written = not (self.settings.dry_run or self.rolled_back)
        return {
            "orders_created": c["orders_created"] if written else 0,
            "orders_updated": c["orders_updated"] if written else 0,
            "lines_created": c["lines_created"] if written else 0,
            "lines_updated": c["lines_updated"] if written else 0,
        }


def _relaxed(plan: FieldPlan) -> FieldPlan:
    from dataclasses import replace

    return replace(plan, required=False, default=None)


def _cell(values, index) -> str:
    if index is None or index >= len(values):
        return ""
    value = values[index]
    if value is None:
        return ""
    return str(value).strip()


def _raw(row: Row, plan: FieldPlan) -> Any:
    if plan.index is not None and plan.index < len(row.raw):
        return row.raw[plan.index]
    return ""
