"""Variants (``Resource.variants``): a record whose key is another record's key plus a short
suffix (SKU 11400-BE of 11400) is linked to that record when the file has no parent column."""

from __future__ import annotations

from collections import defaultdict

from django.utils import timezone

from business.resources import Variants
from wizard.engine.matching import references_lookup
from wizard.engine.validation import FieldPlan, Row
from wizard.engine.writing import changes_record


class VariantLinker:
    """Links one run's rows to their parents, batch by batch (resolved before classifying)."""

    def __init__(self, run, variants: Variants, parent_attname: str):
        self.run = run
        self.variants = variants
        self.parent_attname = parent_attname

    @classmethod
    def for_run(cls, run, plans: list[FieldPlan]) -> VariantLinker | None:
        """A linker when the resource declares variants, the file maps the key and not the
        parent (a parent column, when mapped, says it all)."""
        variants = run.resource.variants
        if variants is None:
            return None
        mapped = {p.name for p in plans}
        if variants.parent in mapped or variants.key not in mapped:
            return None
        field = run.resource.get_field(variants.parent)
        attname = run.model._meta.get_field(field.model_attr).attname
        return cls(run, variants, attname)

    def link(self, rows: list[Row]) -> None:
        run, v, parent_attname = self.run, self.variants, self.parent_attname
        resource = run.resource
        wanted: dict[str, list[Row]] = defaultdict(list)
        for row in rows:
            if row.errors:
                continue
            parent = v.parent_of(row.values.get(v.key) or "")
            if parent:
                wanted[parent].append(row)
            else:
                row.values[parent_attname] = None
        if not wanted:
            return
        found, _ = references_lookup(
            organization=run.organization, resource=resource, key=v.key, values=wanted
        )
        seen = run.seen[resource.name]
        create = run.settings.create_missing.get(v.parent)
        to_create = []
        for parent, children in wanted.items():
            if parent in found:
                for row in children:
                    row.values[parent_attname] = found[parent]
            elif (parent,) in seen:
                for row in children:
                    row.values[parent_attname] = None
                    row.extra = row.extra or {}
                    row.extra.setdefault("pending", []).append(
                        (parent_attname, resource.name, parent)
                    )
            elif create:
                to_create.append((parent, children))
            else:
                label = resource.model._meta.verbose_name
                key_label = resource.get_field(v.key).label
                for row in children:
                    row.values[parent_attname] = None
                    row.warn(
                        run._column(v.key),
                        row.values.get(v.key),
                        f"looks like a variant of '{parent}', but there is no {label} with that "
                        f"{key_label}; imported without a parent",
                    )
        if to_create:
            run.tally_unresolved(v.parent, "")
            run.unresolved[v.parent].pop("", None)
            for parent, children in to_create:
                run.unresolved[v.parent][parent] += len(children)
            if run.simulate:
                for _, children in to_create:
                    for row in children:
                        row.values[parent_attname] = None
                return
            ids = run.factory.insert(
                [
                    {v.key: parent, v.name: children[0].values.get(v.name) or parent}
                    for parent, children in to_create
                ],
                now=timezone.now(),
            )
            changes_record(job_id=run.job.pk, resource=resource.name, created=ids)
            run.references_created[resource.name] += len(ids)
            run.counts["parents_created"] += len(ids)
            for pk, (_, children) in zip(ids, to_create, strict=True):
                for row in children:
                    row.values[parent_attname] = pk
