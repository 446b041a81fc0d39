"""The records Ferry imports into and exports from.

Every record belongs to one organization and has a natural key unique within it; that key is
how imports match duplicates and how a file refers to a related record (an order line's product
by SKU, a contact's account by name). Money is Decimal, never float.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from accounts.models import Organization

MONEY = {"max_digits": 14, "decimal_places": 2}
QTY = {"max_digits": 14, "decimal_places": 3}


class OrgModel(models.Model):
    # No index of their own: every model below has a unique constraint or index that starts
    # with the organization, which serves the scoping; and no query orders or filters business
    # records by creation time on an index (export filters compare its date). Each index is
    # written on every insert: these two cost a SQLite import of 100k contacts 0.14 s of 3.4.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def unique_per_org(*fields: str, name: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(fields=["organization", *fields], name=name)


def unique_per_org_when_given(field: str, *, name: str) -> models.UniqueConstraint:
    """Unique within the organization when filled in: records found by a fallback key (a CRM
    contact without an e-mail) may leave it blank."""
    return models.UniqueConstraint(
        fields=["organization", field], condition=~models.Q(**{field: ""}), name=name
    )


def _person(first: str, last: str, legacy_id: str, pk) -> str:
    return f"{first} {last}".strip() or legacy_id or f"#{pk}"


# --- CRM -------------------------------------------------------------------------------------


class Account(OrgModel):
    name = models.CharField(max_length=200)
    website = models.CharField(max_length=200, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)
    legacy_id = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = "account"
        verbose_name_plural = "accounts"
        ordering = ["name"]
        constraints = [unique_per_org("name", name="account_unique_name")]

    def __str__(self) -> str:
        return self.name


class Contact(OrgModel):
    class Stage(models.TextChoices):
        LEAD = "lead", "Lead"
        PROSPECT = "prospect", "Prospect"
        CUSTOMER = "customer", "Customer"

    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    phone = models.CharField(max_length=50, blank=True)
    title = models.CharField(max_length=100, blank=True)
    lifecycle_stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.LEAD)
    source = models.CharField(max_length=100, blank=True)
    do_not_email = models.BooleanField(default=False)
    birth_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    legacy_id = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = "contact"
        verbose_name_plural = "contacts"
        ordering = ["email"]
        constraints = [unique_per_org_when_given("email", name="contact_unique_email")]
        # The partial unique index above cannot serve "email IN (…)": these match by key and
        # by the first fallback key.
        indexes = [
            models.Index(fields=["organization", "email"], name="contact_org_email"),
            models.Index(fields=["organization", "legacy_id"], name="contact_org_legacy"),
        ]

    def __str__(self) -> str:
        return self.email or _person(self.first_name, self.last_name, self.legacy_id, self.pk)


class Lead(OrgModel):
    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        QUALIFIED = "qualified", "Qualified"
        DISQUALIFIED = "disqualified", "Disqualified"

    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    estimated_value = models.DecimalField(**MONEY, null=True, blank=True)
    legacy_id = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = "lead"
        verbose_name_plural = "leads"
        ordering = ["email"]
        constraints = [unique_per_org_when_given("email", name="lead_unique_email")]
        # The partial unique index above cannot serve "email IN (…)": these match by key and
        # by the first fallback key.
        indexes = [
            models.Index(fields=["organization", "email"], name="lead_org_email"),
            models.Index(fields=["organization", "legacy_id"], name="lead_org_legacy"),
        ]

    def __str__(self) -> str:
        return self.email or _person(self.first_name, self.last_name, self.legacy_id, self.pk)


# --- Catalog ---------------------------------------------------------------------------------


class ProductCategory(OrgModel):
    name = models.CharField(max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    legacy_id = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = "product category"
        ordering = ["name"]
        verbose_name_plural = "product categories"
        constraints = [unique_per_org("name", name="productcategory_unique_name")]

    def __str__(self) -> str:
        return self.name


class Product(OrgModel):
    sku = models.CharField("SKU", max_length=64)
    name = models.CharField(max_length=200)
    category = models.ForeignKey(
        ProductCategory, null=True, blank=True, on_delete=models.SET_NULL, related_name="products"
    )
    barcode = models.CharField(max_length=64, blank=True)
    unit_cost = models.DecimalField(**MONEY, default=Decimal("0"))
    list_price = models.DecimalField(**MONEY, default=Decimal("0"))
    is_manufactured = models.BooleanField(default=False)
    is_purchased = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    # A variant SKU such as 11400-BE belongs to its parent 11400.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="variants"
    )
    description = models.TextField(blank=True)
    legacy_id = models.CharField(max_length=100, blank=True)
    # Whatever else a source knows about the product (an external inventory's columns that map
    # to no field), kept so nothing is lost.
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "product"
        verbose_name_plural = "products"
        ordering = ["sku"]
        constraints = [unique_per_org("sku", name="product_unique_sku")]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


# --- Sales -----------------------------------------------------------------------------------


class Customer(OrgModel):
    class Type(models.TextChoices):
        RETAIL = "retail", "Retail"
        WHOLESALE = "wholesale", "Wholesale"

    class CreditStatus(models.TextChoices):
        GOOD = "good", "Good standing"
        HOLD = "hold", "On hold"
        BLOCKED = "blocked", "Blocked"

    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    customer_type = models.CharField(max_length=20, choices=Type.choices, default=Type.RETAIL)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    address = models.CharField(max_length=300, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)
    credit_limit = models.DecimalField(**MONEY, default=Decimal("0"))
    credit_status = models.CharField(
        max_length=20, choices=CreditStatus.choices, default=CreditStatus.GOOD
    )
    is_active = models.BooleanField(default=True)
    legacy_id = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = "customer"
        verbose_name_plural = "customers"
        ordering = ["code"]
        constraints = [unique_per_org("code", name="customer_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CreditTransaction(OrgModel):
    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        PAYMENT = "payment", "Payment"

    reference = models.CharField(max_length=64)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="credit_transactions"
    )
    date = models.DateField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.DecimalField(**MONEY)
    note = models.CharField(max_length=300, blank=True)
    legacy_id = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = "credit transaction"
        verbose_name_plural = "credit transactions"
        ordering = ["-date", "reference"]
        constraints = [unique_per_org("reference", name="credittransaction_unique_reference")]
        indexes = [models.Index(fields=["organization", "customer", "date"])]

    def __str__(self) -> str:
        return self.reference


class Warehouse(OrgModel):
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    city = models.CharField(max_length=100, blank=True)
    is_store = models.BooleanField(default=False)
    legacy_id = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = "warehouse"
        verbose_name_plural = "warehouses"
        ordering = ["code"]
        constraints = [unique_per_org("code", name="warehouse_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SalesOrder(OrgModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        CONFIRMED = "confirmed", "Confirmed"
        INVOICED = "invoiced", "Invoiced"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField(max_length=64)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    order_date = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    warehouse = models.ForeignKey(
        Warehouse, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    notes = models.TextField(blank=True)
    legacy_id = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = "sales order"
        verbose_name_plural = "sales orders"
        ordering = ["-order_date", "number"]
        constraints = [unique_per_org("number", name="salesorder_unique_number")]
        indexes = [models.Index(fields=["organization", "order_date"])]

    def __str__(self) -> str:
        return self.number


class SalesOrderLine(OrgModel):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.DecimalField(**QTY)
    unit_price = models.DecimalField(**MONEY)
    unit_cost = models.DecimalField(**MONEY, default=Decimal("0"))
    # Amounts for the whole line, not per unit.
    discount = models.DecimalField(**MONEY, default=Decimal("0"))
    tax = models.DecimalField(**MONEY, default=Decimal("0"))
    # Percent, e.g. 20.00; printed and used to group an invoice's tax. The tax amount above
    # stays what the order owes; a line without a rate has it derived from the amounts.
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = "sales order line"
        verbose_name_plural = "sales order lines"
        ordering = ["order", "line_number"]
        constraints = [
            unique_per_org("order", "line_number", name="salesorderline_unique_line"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_number}"

    @property
    def net_amount(self) -> Decimal:
        """Revenue of the line: quantity × price less the discount, before tax."""
        return self.quantity * self.unit_price - self.discount


# --- Inventory -------------------------------------------------------------------------------


class StockItem(OrgModel):
    class Status(models.TextChoices):
        IN_STOCK = "in_stock", "In stock"
        SOLD = "sold", "Sold"
        DELIVERED = "delivered", "Delivered"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_items")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="stock_items")
    quantity = models.DecimalField(**QTY, default=Decimal("0"))
    reorder_level = models.DecimalField(**QTY, default=Decimal("0"))
    location = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_STOCK)

    class Meta:
        verbose_name = "stock item"
        verbose_name_plural = "stock items"
        ordering = ["warehouse", "product"]
        constraints = [unique_per_org("product", "warehouse", name="stockitem_unique_product_wh")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id}"


class StockMovement(OrgModel):
    reference = models.CharField(max_length=64)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="movements")
    from_warehouse = models.ForeignKey(
        Warehouse, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_warehouse = models.ForeignKey(
        Warehouse, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    quantity = models.DecimalField(**QTY)
    date = models.DateField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "stock movement"
        verbose_name_plural = "stock movements"
        ordering = ["-date", "reference"]
        constraints = [unique_per_org("reference", name="stockmovement_unique_reference")]

    def __str__(self) -> str:
        return self.reference


# --- Audit -----------------------------------------------------------------------------------


class AuditEvent(models.Model):
    class Type(models.TextChoices):
        LOGIN = "login", "Login"
        LOGOUT = "logout", "Logout"
        LOGIN_FAILED = "login_failed", "Login failed"
        IMPORT = "import", "Import"
        IMPORT_UNDO = "import_undo", "Import undone"
        EXPORT = "export", "Export"
        REPORT = "report", "Report"
        RECORD_CREATED = "record_created", "Record created"
        RECORD_UPDATED = "record_updated", "Record updated"
        RECORD_DELETED = "record_deleted", "Record deleted"
        TEMPLATE = "template", "Template changed"
        SETTINGS = "settings", "Settings changed"
        # Invitations, joins, role and permission changes, removals (accounts/members.py).
        MEMBER = "member", "Member changed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    time = models.DateTimeField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    event_type = models.CharField(max_length=30, choices=Type.choices)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = "audit event"
        verbose_name_plural = "audit events"
        ordering = ["-time", "-pk"]
        indexes = [models.Index(fields=["organization", "event_type", "time"])]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M} {self.event_type} {self.object_repr}"
