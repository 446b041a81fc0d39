"""Django admin for every business model: operators see every organization, org admins their own."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin_site import OrgScopedAdmin, OrgScopedInlineMixin
from accounts.permissions import VIEW_AUDIT
from business import models as m


class OrgAdmin(OrgScopedAdmin):
    list_filter: tuple = ("organization",)
    list_select_related: tuple = ("organization",)
    # The tables hold up to millions of rows; an exact count on every page load is not worth it.
    show_full_result_count = False
    list_per_page = 50


@admin.register(m.Account)
class AccountAdmin(OrgAdmin):
    list_display = ("name", "organization", "industry", "city", "country", "updated_at")
    search_fields = ("name", "website", "legacy_id")
    list_filter = ("organization", "industry", "country")


@admin.register(m.Contact)
class ContactAdmin(OrgAdmin):
    list_display = (
        "email",
        "first_name",
        "last_name",
        "account",
        "lifecycle_stage",
        "organization",
    )
    search_fields = ("email", "first_name", "last_name", "legacy_id")
    list_filter = ("organization", "lifecycle_stage", "do_not_email")
    list_select_related = ("organization", "account")
    raw_id_fields = ("account",)


@admin.register(m.Lead)
class LeadAdmin(OrgAdmin):
    list_display = ("email", "first_name", "last_name", "company_name", "status", "organization")
    search_fields = ("email", "first_name", "last_name", "company_name")
    list_filter = ("organization", "status", "source")


@admin.register(m.ProductCategory)
class ProductCategoryAdmin(OrgAdmin):
    list_display = ("name", "parent", "organization")
    search_fields = ("name",)
    list_select_related = ("organization", "parent")
    raw_id_fields = ("parent",)


@admin.register(m.Product)
class ProductAdmin(OrgAdmin):
    list_display = (
        "sku",
        "name",
        "category",
        "parent",
        "unit_cost",
        "list_price",
        "is_active",
        "organization",
    )
    search_fields = ("sku", "name", "barcode")
    list_filter = ("organization", "is_active", "is_manufactured", "is_purchased")
    list_select_related = ("organization", "category", "parent")
    raw_id_fields = ("category", "parent")


@admin.register(m.Customer)
class CustomerAdmin(OrgAdmin):
    list_display = (
        "code",
        "name",
        "customer_type",
        "credit_limit",
        "credit_status",
        "is_active",
        "organization",
    )
    search_fields = ("code", "name", "email")
    list_filter = ("organization", "customer_type", "credit_status", "is_active")


@admin.register(m.CreditTransaction)
class CreditTransactionAdmin(OrgAdmin):
    list_display = ("reference", "customer", "date", "kind", "amount", "organization")
    search_fields = ("reference", "customer__code", "customer__name")
    list_filter = ("organization", "kind")
    list_select_related = ("organization", "customer")
    raw_id_fields = ("customer",)
    date_hierarchy = "date"


@admin.register(m.Warehouse)
class WarehouseAdmin(OrgAdmin):
    list_display = ("code", "name", "city", "is_store", "organization")
    search_fields = ("code", "name", "city")
    list_filter = ("organization", "is_store")


class SalesOrderLineInline(OrgScopedInlineMixin, admin.TabularInline):
    model = m.SalesOrderLine
    extra = 0
    raw_id_fields = ("product",)
    fields = ("line_number", "product", "quantity", "unit_price", "unit_cost", "discount", "tax")


@admin.register(m.SalesOrder)
class SalesOrderAdmin(OrgAdmin):
    list_display = ("number", "customer", "order_date", "status", "warehouse", "organization")
    search_fields = ("number", "customer__code", "customer__name")
    list_filter = ("organization", "status")
    list_select_related = ("organization", "customer", "warehouse")
    raw_id_fields = ("customer", "warehouse")
    date_hierarchy = "order_date"
    inlines = (SalesOrderLineInline,)


@admin.register(m.SalesOrderLine)
class SalesOrderLineAdmin(OrgAdmin):
    list_display = (
        "order",
        "line_number",
        "product",
        "quantity",
        "unit_price",
        "unit_cost",
        "organization",
    )
    search_fields = ("order__number", "product__sku")
    list_select_related = ("organization", "order", "product")
    raw_id_fields = ("order", "product")


@admin.register(m.StockItem)
class StockItemAdmin(OrgAdmin):
    list_display = ("product", "warehouse", "quantity", "reorder_level", "status", "organization")
    search_fields = ("product__sku", "product__name", "warehouse__code", "location")
    list_filter = ("organization", "status", "warehouse")
    list_select_related = ("organization", "product", "warehouse")
    raw_id_fields = ("product", "warehouse")


@admin.register(m.StockMovement)
class StockMovementAdmin(OrgAdmin):
    list_display = (
        "reference",
        "product",
        "from_warehouse",
        "to_warehouse",
        "quantity",
        "date",
        "organization",
    )
    search_fields = ("reference", "product__sku")
    list_select_related = ("organization", "product", "from_warehouse", "to_warehouse")
    raw_id_fields = ("product", "from_warehouse", "to_warehouse")
    date_hierarchy = "date"


@admin.register(m.AuditEvent)
class AuditEventAdmin(OrgAdmin):
    list_display = ("time", "event_type", "user", "object_repr", "ip_address", "organization")
    search_fields = ("object_repr", "object_id", "user__username")
    list_filter = ("organization", "event_type")
    list_select_related = ("organization", "user")
    date_hierarchy = "time"
    membership_permission = VIEW_AUDIT

    # The audit trail is evidence: nobody edits it, not even through the admin.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
