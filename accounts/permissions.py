"""Permission codes and the roles that grant them.

Codes follow the seed wording: ``can_import_<model>``, ``can_export_<model>`` and
``can_export_<model>_pdf`` for every business model, plus a few organization-wide codes.
Roles grant sets of codes; a membership may add or remove single codes on top of its role.
"""

from __future__ import annotations

# Model codes of the business records (the model's lower-case class name). Filled by the app that
# owns the models (business registers one per resource declaration, see ``model_codes_register``):
# accounts sits below business and never names its models.
MODEL_CODES: list[str] = []

MANAGE_TEMPLATES = "can_manage_templates"
MANAGE_MEMBERS = "can_manage_members"
VIEW_AUDIT = "can_view_audit"
# Register external inventory databases and run their syncs (admins only, through ALL_CODES).
MANAGE_SYNC = "can_manage_sync"
# Create, change, run and pause scheduled exports (reports/schedules): managers and admins.
MANAGE_SCHEDULES = "can_manage_schedules"
ORG_CODES: tuple[str, ...] = (
    MANAGE_TEMPLATES,
    MANAGE_MEMBERS,
    VIEW_AUDIT,
    MANAGE_SYNC,
    MANAGE_SCHEDULES,
)

# Business documents printed from sales orders, one code per kind (reports/documents).
DOCUMENT_KINDS: tuple[str, ...] = ("invoice", "delivery_note", "picking_list", "quote")


def print_code(kind: str) -> str:
    return f"can_print_{kind}"


ALL_PRINT = frozenset(print_code(k) for k in DOCUMENT_KINDS)
# Warehouse staff print what goes with the goods, never what shows prices.
WAREHOUSE_PRINT = frozenset({print_code("delivery_note"), print_code("picking_list")})


def import_code(model_code: str) -> str:
    return f"can_import_{model_code}"


def export_code(model_code: str) -> str:
    return f"can_export_{model_code}"


def export_pdf_code(model_code: str) -> str:
    return f"can_export_{model_code}_pdf"


# The sets below are filled in place as models register, so a name imported early (``from
# accounts.permissions import ALL_CODES``) sees every model registered later.
ALL_IMPORT: set[str] = set()
ALL_EXPORT: set[str] = set()
ALL_EXPORT_PDF: set[str] = set()
# Exports only managers and admins may take (the audit trail).
RESTRICTED_EXPORT: set[str] = set()
AUDIT_EXPORT = RESTRICTED_EXPORT  # the name the seed used

ALL_CODES: set[str] = set(ORG_CODES) | ALL_PRINT


class Role:
    ADMIN = "admin"
    MANAGER = "manager"
    OPS = "ops"
    VIEWER = "viewer"

    CHOICES = [
        (ADMIN, "Admin"),
        (MANAGER, "Manager"),
        (OPS, "Operations"),
        (VIEWER, "Viewer"),
    ]


# Role name -> the model-independent codes it grants, and which model code sets it takes.
_ROLE_ORG_CODES: dict[str, frozenset[str]] = {
    # Admins curate everything, including members, templates and the audit trail.
    Role.ADMIN: frozenset(ORG_CODES) | ALL_PRINT,
    # Managers pull data and print reports; they may import too but not manage the org.
    Role.MANAGER: frozenset({VIEW_AUDIT, MANAGE_SCHEDULES}) | ALL_PRINT,
    # Ops run the import wizard weekly and export spreadsheets, but do not print PDF reports;
    # they do print the papers that travel with the goods.
    Role.OPS: WAREHOUSE_PRINT,
    # Viewers browse and export spreadsheets; they never change data.
    Role.VIEWER: frozenset(),
}
_ROLE_MODEL_SETS: dict[str, tuple[set[str], ...]] = {
    Role.ADMIN: (ALL_IMPORT, ALL_EXPORT, ALL_EXPORT_PDF, RESTRICTED_EXPORT),
    Role.MANAGER: (ALL_IMPORT, ALL_EXPORT, ALL_EXPORT_PDF, RESTRICTED_EXPORT),
    Role.OPS: (ALL_IMPORT, ALL_EXPORT),
    Role.VIEWER: (ALL_EXPORT,),
}
ROLE_CODES: dict[str, set[str]] = {role: set(codes) for role, codes in _ROLE_ORG_CODES.items()}


def model_codes_register(model_code: str, *, importable: bool, restricted: bool = False) -> None:
    """Add one business model's codes: import (when importable), export and PDF export.

    ``restricted`` exports (the audit trail) go to managers and admins only. Called by the
    resource registry for each declaration, so a new model needs no edit here.
    """
    if model_code in MODEL_CODES:
        return
    MODEL_CODES.append(model_code)
    exports = {export_code(model_code), export_pdf_code(model_code)}
    if importable:
        ALL_IMPORT.add(import_code(model_code))
    if restricted:
        RESTRICTED_EXPORT.update(exports)
    else:
        ALL_EXPORT.add(export_code(model_code))
        ALL_EXPORT_PDF.add(export_pdf_code(model_code))
    _codes_rebuild()


def model_codes_unregister(model_code: str) -> None:
    """Forget a model's codes (a test that declared a model of its own cleans up)."""
    if model_code not in MODEL_CODES:
        return
    MODEL_CODES.remove(model_code)
    gone = {import_code(model_code), export_code(model_code), export_pdf_code(model_code)}
    for codes in (ALL_IMPORT, ALL_EXPORT, ALL_EXPORT_PDF, RESTRICTED_EXPORT, ALL_CODES):
        codes.difference_update(gone)
    _codes_rebuild()


def _codes_rebuild() -> None:
    ALL_CODES.update(ALL_IMPORT, ALL_EXPORT, ALL_EXPORT_PDF, RESTRICTED_EXPORT)
    for role, model_sets in _ROLE_MODEL_SETS.items():
        codes = ROLE_CODES[role]
        codes.clear()
        codes.update(_ROLE_ORG_CODES[role], *model_sets)


def codes_for(
    role: str, granted: list[str] | None = None, revoked: list[str] | None = None
) -> frozenset[str]:
    codes = set(ROLE_CODES.get(role, frozenset()))
    codes |= set(granted or ()) & ALL_CODES
    codes -= set(revoked or ())
    return frozenset(codes)
