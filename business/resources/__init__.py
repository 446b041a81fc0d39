"""Resource declarations for every business model (see base.py)."""

from business.resources.base import (
    Field,
    FieldType,
    Numbering,
    Ref,
    Resource,
    UnknownResource,
    Variants,
    registry,
    resource_get,
    resources_for,
)
from business.resources.declarations import (  # noqa: F401  (registers every resource)
    AccountResource,
    AuditEventResource,
    ContactResource,
    CreditTransactionResource,
    CustomerResource,
    LeadResource,
    ProductCategoryResource,
    ProductResource,
    SalesOrderLineResource,
    SalesOrderResource,
    StockItemResource,
    StockMovementResource,
    WarehouseResource,
)

__all__ = [
    "Field",
    "FieldType",
    "Numbering",
    "Ref",
    "Resource",
    "UnknownResource",
    "Variants",
    "registry",
    "resource_get",
    "resources_for",
]
