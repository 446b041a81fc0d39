"""One declaration per model: the fields Ferry imports and exports.

Import (mapping, parsing, validation, duplicate matching, reference resolution) and export
(columns, filters, writers) and the API's field listing all read these declarations. Adding a
model to Ferry means writing one ``Resource`` subclass in ``business/resources/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db import models

from accounts.permissions import (
    export_code,
    export_pdf_code,
    import_code,
    model_codes_register,
    model_codes_unregister,
)


class FieldType:
    TEXT = "text"
    EMAIL = "email"
    INTEGER = "integer"
    DECIMAL = "decimal"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    REFERENCE = "reference"
    # A JSON object (e.g. a product's attributes): imported from JSON text, exported as JSON text.
    JSON = "json"

    ALL = (TEXT, EMAIL, INTEGER, DECIMAL, MONEY, DATE, DATETIME, BOOLEAN, CHOICE, REFERENCE, JSON)


@dataclass(frozen=True)
class Ref:
    """A related record found by its natural key, e.g. a contact's account by name."""

    resource: str  # the related resource's name, e.g. "accounts"
    key: str  # the related model's natural-key field, e.g. "name"
    # Whether an import may create a missing related record (still only when the user opts in).
    creatable: bool = False


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str = FieldType.TEXT
    required: bool = False
    synonyms: tuple[str, ...] = ()
    choices: tuple[tuple[str, str], ...] = ()
    ref: Ref | None = None
    max_length: int | None = None
    # The model attribute written on import; defaults to ``name`` (for a reference: the FK).
    attr: str | None = None
    # Whether the field can be imported, and whether it is a default export column.
    importable: bool = True
    default_export: bool = True
    help_text: str = ""
    default: Any = None

    @property
    def model_attr(self) -> str:
        return self.attr or self.name

    @property
    def export_path(self) -> str:
        """The ``values()`` path that reads this field for export."""
        if self.ref is not None:
            return f"{self.model_attr}__{self.ref.key}"
        return self.model_attr

    def describe(self, key_fields: tuple[str, ...] = ()) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "required": self.required,
            "key": self.name in key_fields,
            "synonyms": list(self.synonyms),
            "choices": [value for value, _ in self.choices],
            "reference": (
                {"resource": self.ref.resource, "key": self.ref.key}
                if self.ref is not None
                else None
            ),
            "help_text": self.help_text,
        }


@dataclass(frozen=True)
class Variants:
    """Records whose key is another record's key plus a short suffix (11400-BE of 11400) are its
    variants: an import without a ``parent`` column links them, creating the parent on request
    (named after its first variant's ``name``)."""

    key: str  # the key field carrying the suffix, e.g. "sku"
    parent: str  # the reference field to the parent record, e.g. "parent"
    name: str = "name"  # the field a created parent copies from its first variant
    suffix_max: int = 4

    def parent_of(self, value: str) -> str | None:
        """'11400-BE' -> '11400'; None when the value has no variant suffix."""
        base, sep, suffix = value.rpartition("-")
        if not sep or not base or not suffix or len(suffix) > self.suffix_max:
            return None
        if not suffix[0].isalpha() or not suffix.isalnum():
            return None
        return base


@dataclass(frozen=True)
class Numbering:
    """Records numbered within another record (an order's lines): when a file gives no number
    (or leaves one blank), rows are numbered per ``within`` value in file order, so the same
    file imported again numbers — and so matches — the same records."""

    field: str  # the number field, part of the key, e.g. "line_number"
    within: str  # the field grouping the numbers, e.g. "order"


class Resource:
    """Declares how one model is imported and exported. Subclasses set the class attributes."""

    name: ClassVar[str]  # plural, hyphenated: "contacts", "sales-orders"
    label: ClassVar[str]  # "Contacts"
    model: ClassVar[type[models.Model]]
    key: ClassVar[tuple[str, ...]]  # natural key field names (Field.name), unique per organization
    fields: ClassVar[tuple[Field, ...]]
    description: ClassVar[str] = ""
    # Whether a person may import into this resource (the audit trail is export-only).
    importable: ClassVar[bool] = True
    # Only managers and admins may export it (the audit trail); see accounts.permissions.
    export_restricted: ClassVar[bool] = False
    # A resource whose rows the same file may carry under each record (an order's lines): the
    # wizard offers their fields and the engine runs the file with ``OrdersRun``.
    line_resource: ClassVar[str | None] = None
    # Records that are variants of another record of the same resource (products).
    variants: ClassVar[Variants | None] = None
    # Other ways to recognise a record when a row's natural key is blank, tried in order, e.g.
    # (("legacy_id",), ("first_name", "last_name", "account")). A row with no key at all is
    # created, never matched. A row may then leave its key blank, and a file need map the key
    # only when it maps none of the fallback keys.
    fallback_keys: ClassVar[tuple[tuple[str, ...], ...]] = ()
    # Key numbers given in file order when the file has none (see ``Numbering``).
    numbering: ClassVar[Numbering | None] = None

    # --- declaration helpers ---------------------------------------------------------------
    @classmethod
    def field_map(cls) -> dict[str, Field]:
        return {f.name: f for f in cls.fields}

    @classmethod
    def get_field(cls, name: str) -> Field:
        return cls.field_map()[name]

    @classmethod
    def key_fields(cls) -> tuple[Field, ...]:
        fm = cls.field_map()
        return tuple(fm[k] for k in cls.key)

    @classmethod
    def importable_fields(cls) -> tuple[Field, ...]:
        return tuple(f for f in cls.fields if f.importable)

    @classmethod
    def default_export_fields(cls) -> tuple[Field, ...]:
        return tuple(f for f in cls.fields if f.default_export)

    @classmethod
    def fills_itself(cls, name: str, mapped: set[str]) -> bool:
        """Whether a required field may go unmapped given the fields a file maps: the key when
        a fallback key is mapped whole, a numbered field when its group field is mapped."""
        if name in cls.key and any(set(k) <= mapped for k in cls.fallback_keys):
            return True
        n = cls.numbering
        return n is not None and n.field == name and n.within in mapped

    @classmethod
    def blank_allowed(cls, name: str) -> bool:
        """Whether a row may leave a required field blank: the key of a resource with fallback
        keys (another key, or none, recognises the row), a numbered field (numbered in file
        order)."""
        if cls.fallback_keys and name in cls.key:
            return True
        return cls.numbering is not None and cls.numbering.field == name

    @classmethod
    def lines(cls) -> type[Resource] | None:
        """The declared line resource, or None."""
        return resource_get(cls.line_resource) if cls.line_resource else None

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "name": cls.name,
            "label": cls.label,
            "description": cls.description,
            "key": list(cls.key),
            "fallback_keys": [list(k) for k in cls.fallback_keys],
            "importable": cls.importable,
            "fields": [f.describe(cls.key) for f in cls.fields],
        }

    # --- permissions -----------------------------------------------------------------------
    @classmethod
    def model_code(cls) -> str:
        return cls.model._meta.model_name

    @classmethod
    def import_permission(cls) -> str:
        return import_code(cls.model_code())

    @classmethod
    def export_permission(cls) -> str:
        return export_code(cls.model_code())

    @classmethod
    def export_pdf_permission(cls) -> str:
        return export_pdf_code(cls.model_code())

    # --- data ------------------------------------------------------------------------------
    @classmethod
    def queryset(cls, organization) -> models.QuerySet:
        """Every record of this resource in one organization (the only way to reach them)."""
        return cls.model._default_manager.filter(organization=organization)


@dataclass
class ResourceRegistry:
    _resources: dict[str, type[Resource]] = field(default_factory=dict)

    def register(self, resource: type[Resource]) -> type[Resource]:
        """Declare a resource; its permission codes exist from now on (no other edit)."""
        self._resources[resource.name] = resource
        model_codes_register(
            resource.model_code(),
            importable=resource.importable,
            restricted=resource.export_restricted,
        )
        return resource

    def unregister(self, resource: type[Resource]) -> None:
        """Forget a resource and its codes (a test that declared one of its own cleans up)."""
        self._resources.pop(resource.name, None)
        if not any(r.model_code() == resource.model_code() for r in self._resources.values()):
            model_codes_unregister(resource.model_code())

    def get(self, name: str) -> type[Resource]:
        return self._resources[name]

    def __contains__(self, name: str) -> bool:
        return name in self._resources

    def all(self) -> list[type[Resource]]:
        return list(self._resources.values())

    def for_model(self, model: type[models.Model]) -> type[Resource]:
        for resource in self._resources.values():
            if resource.model is model:
                return resource
        raise KeyError(model)


registry = ResourceRegistry()


class UnknownResource(LookupError):
    def __init__(self, name: str):
        super().__init__(
            f"Unknown resource '{name}'. Known: {', '.join(sorted(registry._resources))}."
        )


def resource_get(name: str) -> type[Resource]:
    try:
        return registry.get(name)
    except KeyError as exc:
        raise UnknownResource(name) from exc


def resources_for(membership, action: str) -> list[type[Resource]]:
    """The resources a membership may import into (``import``), export, or export as PDF."""
    if membership is None:
        return []
    out = []
    for resource in registry.all():
        if action == "import":
            ok = resource.importable and membership.has_perm(resource.import_permission())
        elif action == "export_pdf":
            ok = membership.has_perm(resource.export_pdf_permission())
        else:
            ok = membership.has_perm(resource.export_permission())
        if ok:
            out.append(resource)
    return out
