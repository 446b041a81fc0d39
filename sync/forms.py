from __future__ import annotations

from django import forms

from business.resources import resource_get
from sync.mapping import (
    KEEP,
    STOCK_TARGETS,
    TRANSFORM_LABELS,
    TRANSFORMS,
    WRITEBACK_VALUES,
    SyncMappingError,
    value_map_parse,
    value_map_text,
    writeback_statuses,
)
from sync.models import INTERVAL_DEFAULT, INTERVAL_MAX, INTERVAL_MIN


class ConnectionForm(forms.Form):
    name = forms.CharField(max_length=100)
    upload = forms.FileField(
        required=False, label="SQLite file", help_text="Upload the shop's database file…"
    )
    path = forms.CharField(
        required=False,
        max_length=500,
        label="…or a file in the sync folder",
        help_text="A path relative to the folder the operator set up (FERRY_SYNC_ROOT).",
    )
    url = forms.CharField(
        required=False,
        max_length=500,
        label="…or a database URL",
        help_text="postgresql://user:password@host/db or mysql://user:password@host/db",
    )
    table = forms.CharField(max_length=128)
    key_column = forms.CharField(max_length=128, label="Key column", initial="reel_number")
    filter_column = forms.CharField(
        max_length=128, required=False, initial="status", label="Available when column"
    )
    filter_value = forms.CharField(
        max_length=200, required=False, initial="In-stock", label="equals"
    )

    def clean(self):
        data = super().clean()
        given = [bool(data.get("upload")), bool(data.get("path")), bool(data.get("url"))]
        if sum(given) != 1:
            raise forms.ValidationError(
                "Give exactly one source: upload a file, a path in the sync folder, or a URL."
            )
        return data


class SettingsForm(forms.Form):
    auto_sync = forms.BooleanField(required=False, label="Sync automatically")
    interval_minutes = forms.IntegerField(
        min_value=INTERVAL_MIN,
        max_value=INTERVAL_MAX,
        initial=INTERVAL_DEFAULT,
        label="Every (minutes)",
    )


class StartForm(forms.Form):
    direction = forms.ChoiceField(
        choices=[("both", "both"), ("import", "import"), ("export", "export")]
    )
    dry_run = forms.BooleanField(required=False)
    keys = forms.CharField(required=False)  # one per line, from the selective import table


class MappingForm:
    """The mapping page's form: per external column a target, a transform and its parameter;
    per product field a constant or joined columns; the write-back rules and columns.

    Fields are numbered by column position (external names may hold any character). ``spec``
    reads the submission into the connection's mapping settings, or raises SyncMappingError
    with a message that names the column and what is wrong; the rest is mapping_validate's.
    """

    def __init__(self, *, connection, columns: list[str], data=None):
        self.connection = connection
        self.columns = columns
        self.data = data
        self.fields = [
            f for f in resource_get("products").importable_fields() if f.name != "attributes"
        ]

    # --- what the template shows -----------------------------------------------------------

    def target_choices(self) -> list[tuple[str, str]]:
        choices = [(KEEP, "Keep in attributes")]
        choices += [(f.name, f"{f.label} ({f.name})") for f in self.fields]
        choices += [
            ("stock:quantity", "Stock: quantity"),
            ("stock:warehouse", "Stock: warehouse (by code)"),
        ]
        return choices

    def column_rows(self) -> list[dict]:
        c = self.connection
        stock_role = {v: f"stock:{k}" for k, v in (c.stock or {}).items()}
        rows = []
        for i, column in enumerate(self.columns):
            spec = (c.transforms or {}).get(column) or {}
            transform = next(iter(spec), "")
            param = spec.get(transform, "")
            if transform == "value_map":
                param = value_map_text(param)
            target = (c.mapping or {}).get(column) or stock_role.get(column) or KEEP
            if self.data is not None:
                target = self.data.get(f"target__{i}", target)
                transform = self.data.get(f"transform__{i}", transform)
                param = self.data.get(f"param__{i}", param)
            rows.append(
                {
                    "i": i,
                    "column": column,
                    "is_key": column == c.key_column,
                    "target": target,
                    "transform": transform,
                    "param": param,
                }
            )
        return rows

    def field_rows(self) -> list[dict]:
        options = self.connection.options or {}
        rows = []
        for f in self.fields:
            if f.name == "sku":
                continue
            opts = options.get(f.name) or {}
            constant = "" if opts.get("constant") is None else str(opts["constant"])
            join = ", ".join(opts.get("join") or ())
            if self.data is not None:
                constant = self.data.get(f"constant__{f.name}", constant)
                join = self.data.get(f"join__{f.name}", join)
            rows.append({"name": f.name, "label": f.label, "constant": constant, "join": join})
        return rows

    def status_rows(self) -> list[dict]:
        current = {s: e for s, e in self.connection.sold_statuses or ()}
        rows = []
        for state, label in writeback_statuses():
            value = current.get(state, "")
            if self.data is not None:
                value = self.data.get(f"sold__{state}", value)
            rows.append({"state": state, "label": label, "value": value})
        return rows

    def writeback_rows(self) -> list[dict]:
        current = self.connection.writeback or {}
        rows = []
        for name in WRITEBACK_VALUES:
            value = current.get(name, "")
            if self.data is not None:
                value = self.data.get(f"wb__{name}", value)
            rows.append({"name": name, "column": value})
        return rows

    def username(self) -> str:
        if self.data is not None:
            return self.data.get("writeback_username", "")
        return self.connection.writeback_username

    # --- reading a submission --------------------------------------------------------------

    def spec(self) -> dict:
        data = self.data
        c = self.connection
        known = {value for value, _ in self.target_choices()}
        mapping: dict[str, str] = {}
        stock: dict[str, str] = {}
        transforms: dict[str, dict] = {}
        for row in self.column_rows():
            column, target = row["column"], row["target"]
            if row["is_key"]:
                mapping[column] = "sku"
            elif target not in known:
                raise SyncMappingError(
                    f"Column '{column}' is mapped to '{target}', which is not a product field."
                )
            elif target in STOCK_TARGETS:
                role = STOCK_TARGETS[target]
                if role in stock:
                    raise SyncMappingError(
                        f"Columns '{stock[role]}' and '{column}' are both the stock {role}; "
                        "choose one."
                    )
                stock[role] = column
            elif target != KEEP:
                mapping[column] = target
            transform, param = row["transform"], str(row["param"] or "").strip()
            if transform:
                if transform not in TRANSFORMS:
                    raise SyncMappingError(f"Unknown transform '{transform}' on '{column}'.")
                if not param:
                    raise SyncMappingError(
                        f"The {TRANSFORM_LABELS[transform].lower()} transform of '{column}' "
                        f"needs {TRANSFORMS[transform]}."
                    )
                value = value_map_parse(param, column) if transform == "value_map" else param
                transforms[column] = {transform: value}
        if stock and set(stock) != {"quantity", "warehouse"}:
            raise SyncMappingError(
                "Stock needs both a quantity column and a warehouse column (or neither)."
            )
        options: dict[str, dict] = {}
        for row in self.field_rows():
            name, constant = row["name"], row["constant"].strip()
            join = [j.strip() for j in row["join"].split(",") if j.strip()]
            unknown = [j for j in join if j not in self.columns]
            if unknown:
                raise SyncMappingError(
                    f"'{row['label']}' joins '{unknown[0]}', which is not a column of {c.table}."
                )
            if constant and join:
                raise SyncMappingError(f"'{row['label']}' has a constant and a join; keep one.")
            kept = {
                k: v
                for k, v in ((c.options or {}).get(name) or {}).items()
                if k not in ("constant", "join")
            }
            if constant:
                options[name] = {**kept, "constant": constant}
            elif join:
                options[name] = {"join_with": " ", **kept, "join": join}
            elif kept and set(kept) != {"join_with"}:
                options[name] = kept
        sold = [[r["state"], r["value"].strip()] for r in self.status_rows() if r["value"].strip()]
        writeback = {r["name"]: r["column"].strip() for r in self.writeback_rows()}
        for name, column in writeback.items():
            if column and column not in self.columns:
                raise SyncMappingError(
                    f"The {name.replace('_', ' ')} is written to '{column}', which is not a "
                    f"column of {c.table}."
                )
        username = (data.get("writeback_username") or "").strip()
        if writeback.get("username") and not username:
            raise SyncMappingError("Give the user name written to the username column.")
        return {
            "mapping": mapping,
            "options": options,
            "transforms": transforms,
            "stock": stock,
            "sold_statuses": sold,
            "writeback": writeback,
            "writeback_username": username or c.writeback_username,
        }
