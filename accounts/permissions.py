"""Permission codes and the roles that grant them.

Codes follow the seed wording: ``can_import_<model>``, ``can_export_<model>`` and
``can_export_<model>_pdf`` for every business model, plus a few organization-wide codes.
Roles grant sets of codes; a membership may add or remove single codes on top of its role.
"""

from __future__ import annotations

# Model codes of the business records (the model's lower-case class name).
MODEL_CODES: tuple[str, ...] = (
    "account",
    "contact",
    "lead",
    "productcategory",
    "product",
    "customer",
    "credittransaction",
    "salesorder",
    "salesorderline",
    "warehouse",
    "stockitem",
    "stockmovement",
    "auditevent",
)

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


_IMPORTABLE = tuple(c for c in MODEL_CODES if c != "auditevent")
ALL_IMPORT = frozenset(import_code(c) for c in _IMPORTABLE)
ALL_EXPORT = frozenset(export_code(c) for c in MODEL_CODES if c != "auditevent")
ALL_EXPORT_PDF = frozenset(export_pdf_code(c) for c in MODEL_CODES if c != "auditevent")
AUDIT_EXPORT = frozenset({export_code("auditevent"), export_pdf_code("auditevent")})

ALL_CODES = frozenset(
    ALL_IMPORT | ALL_EXPORT | ALL_EXPORT_PDF | AUDIT_EXPORT | set(ORG_CODES) | ALL_PRINT
)


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


ROLE_CODES: dict[str, frozenset[str]] = {
    # Admins curate everything, including members, templates and the audit trail.
    Role.ADMIN: ALL_CODES,
    # Managers pull data and print reports; they may import too but not manage the org.
    Role.MANAGER: frozenset(
        ALL_IMPORT
        | ALL_EXPORT
        | ALL_EXPORT_PDF
        | AUDIT_EXPORT
        | {VIEW_AUDIT, MANAGE_SCHEDULES}
        | ALL_PRINT
    ),
    # Ops run the import wizard weekly and export spreadsheets, but do not print PDF reports;
    # they do print the papers that travel with the goods.
    Role.OPS: frozenset(ALL_IMPORT | ALL_EXPORT | WAREHOUSE_PRINT),
    # Viewers browse and export spreadsheets; they never change data.
    Role.VIEWER: ALL_EXPORT,
}


def codes_for(
    role: str, granted: list[str] | None = None, revoked: list[str] | None = None
) -> frozenset[str]:
    codes = set(ROLE_CODES.get(role, frozenset()))
    codes |= set(granted or ()) & ALL_CODES
    codes -= set(revoked or ())
    return frozenset(codes)
