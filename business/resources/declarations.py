"""The resources: one per model, each field declared once for import and export alike."""

from __future__ import annotations

from business import models as m
from business.resources.base import (
    Field,
    FieldType,
    Numbering,
    Ref,
    Resource,
    Variants,
    registry,
)

T = FieldType


def choices(text_choices) -> tuple[tuple[str, str], ...]:
    return tuple((str(v), str(label)) for v, label in text_choices.choices)


LEGACY = Field(
    "legacy_id",
    "Legacy ID",
    synonyms=("Old ID", "External ID", "Legacy Key", "Source ID", "Id"),
    default_export=False,
    max_length=100,
)


@registry.register
class AccountResource(Resource):
    name = "accounts"
    label = "Accounts"
    description = "Companies you sell to or work with."
    model = m.Account
    key = ("name",)
    fields = (
        Field(
            "name",
            "Account name",
            required=True,
            max_length=200,
            synonyms=("Company", "Company Name", "Organisation", "Organization", "Account"),
        ),
        Field("website", "Website", max_length=200, synonyms=("Web", "URL", "Homepage", "Site")),
        Field("industry", "Industry", max_length=100, synonyms=("Sector", "Vertical")),
        Field("phone", "Phone", max_length=50, synonyms=("Telephone", "Tel", "Phone Number")),
        Field("city", "City", max_length=100, synonyms=("Town", "Billing City")),
        Field("country", "Country", max_length=100, synonyms=("Nation", "Billing Country")),
        LEGACY,
    )


@registry.register
class ContactResource(Resource):
    name = "contacts"
    label = "Contacts"
    description = "People at your accounts."
    model = m.Contact
    key = ("email",)
    # CRM exports often carry no e-mail: their own id, or a name at an account, says who it is
    # (Email is then required only of a file that maps none of these).
    fallback_keys = (("legacy_id",), ("first_name", "last_name", "account"))
    fields = (
        Field(
            "email",
            "Email",
            T.EMAIL,
            required=True,
            max_length=254,
            synonyms=("E-mail", "Email Address", "E-mail Address", "Mail", "Courriel"),
        ),
        Field(
            "first_name",
            "First name",
            max_length=100,
            synonyms=("Firstname", "Given Name", "Forename", "Prénom"),
        ),
        Field(
            "last_name",
            "Last name",
            max_length=100,
            synonyms=("Lastname", "Surname", "Family Name", "Nom"),
        ),
        Field(
            "account",
            "Account",
            T.REFERENCE,
            ref=Ref("accounts", "name", creatable=True),
            synonyms=("Company", "Company Name", "Organisation", "Organization", "Account Name"),
        ),
        Field(
            "phone",
            "Phone",
            max_length=50,
            synonyms=("Telephone", "Tel", "Phone Number", "Mobile", "Cell"),
        ),
        Field("title", "Job title", max_length=100, synonyms=("Title", "Position", "Role")),
        Field(
            "lifecycle_stage",
            "Lifecycle stage",
            T.CHOICE,
            choices=choices(m.Contact.Stage),
            synonyms=("Stage", "Lifecycle", "Status"),
            default=m.Contact.Stage.LEAD,
        ),
        Field("source", "Source", max_length=100, synonyms=("Lead Source", "Origin", "Channel")),
        Field(
            "do_not_email",
            "Do not e-mail",
            T.BOOLEAN,
            synonyms=("Unsubscribed", "Opt Out", "Email Opt Out", "No Email"),
            default=False,
        ),
        Field("birth_date", "Birth date", T.DATE, synonyms=("Birthday", "Date of Birth", "DOB")),
        Field(
            "notes",
            "Notes",
            synonyms=("Note", "Comments", "Description", "Remarks"),
            default_export=False,
        ),
        LEGACY,
    )


@registry.register
class LeadResource(Resource):
    name = "leads"
    label = "Leads"
    description = "Prospects not yet qualified."
    model = m.Lead
    key = ("email",)
    fallback_keys = (("legacy_id",), ("first_name", "last_name", "company_name"))
    fields = (
        Field(
            "email",
            "Email",
            T.EMAIL,
            required=True,
            max_length=254,
            synonyms=("E-mail", "Email Address", "Mail"),
        ),
        Field("first_name", "First name", max_length=100, synonyms=("Firstname", "Given Name")),
        Field("last_name", "Last name", max_length=100, synonyms=("Lastname", "Surname")),
        Field(
            "company_name",
            "Company",
            max_length=200,
            synonyms=("Company Name", "Organisation", "Organization", "Account"),
        ),
        Field("source", "Source", max_length=100, synonyms=("Lead Source", "Origin", "Channel")),
        Field(
            "status",
            "Status",
            T.CHOICE,
            choices=choices(m.Lead.Status),
            synonyms=("Lead Status", "Stage"),
            default=m.Lead.Status.NEW,
        ),
        Field(
            "estimated_value",
            "Estimated value",
            T.MONEY,
            synonyms=("Value", "Deal Value", "Amount", "Potential"),
        ),
        LEGACY,
    )


@registry.register
class ProductCategoryResource(Resource):
    name = "product-categories"
    label = "Product categories"
    description = "Nested groups of products."
    model = m.ProductCategory
    key = ("name",)
    fields = (
        Field(
            "name",
            "Category name",
            required=True,
            max_length=200,
            synonyms=("Category", "Product Family", "Family", "Group"),
        ),
        Field(
            "parent",
            "Parent category",
            T.REFERENCE,
            ref=Ref("product-categories", "name", creatable=True),
            synonyms=("Parent", "Parent Category", "Parent Family"),
        ),
        LEGACY,
    )


@registry.register
class ProductResource(Resource):
    name = "products"
    label = "Products"
    description = "The catalog: SKUs with cost and price; variants point at their parent."
    model = m.Product
    key = ("sku",)
    # 11400-BE is a variant of 11400: linked to it when the file has no parent column.
    variants = Variants(key="sku", parent="parent")
    fields = (
        Field(
            "sku",
            "SKU",
            required=True,
            max_length=64,
            synonyms=(
                "Item Code",
                "Product Code",
                "Article",
                "Item Number",
                "Part Number",
                "Ref",
                # ERP and web-shop exports: Odoo's "Internal Reference", retail "Product ID".
                "Internal Reference",
                "Product ID",
                "Item ID",
                "Article Number",
                "Default Code",
            ),
        ),
        Field(
            "name",
            "Product name",
            required=True,
            max_length=200,
            synonyms=("Name", "Product", "Title", "Item Name", "Description"),
        ),
        Field(
            "category",
            "Category",
            T.REFERENCE,
            ref=Ref("product-categories", "name", creatable=True),
            synonyms=("Product Family", "Family", "Group", "Category Name", "Product Category"),
        ),
        Field("barcode", "Barcode", max_length=64, synonyms=("EAN", "UPC", "GTIN", "Bar Code")),
        Field("unit_cost", "Unit cost", T.MONEY, synonyms=("Cost", "Cost Price", "Purchase Price")),
        Field(
            "list_price",
            "List price",
            T.MONEY,
            # Not "Sale Price": web shops export it next to "Regular price" as a temporary
            # discount, and the regular price is the list price.
            synonyms=("Price", "Regular Price", "Selling Price", "MSRP", "Retail Price", "RRP"),
        ),
        Field(
            "is_manufactured",
            "Manufactured",
            T.BOOLEAN,
            synonyms=("Made", "Produced"),
            default=False,
        ),
        Field("is_purchased", "Purchased", T.BOOLEAN, synonyms=("Bought",), default=True),
        Field("is_active", "Active", T.BOOLEAN, synonyms=("Enabled", "Available"), default=True),
        Field(
            "parent",
            "Parent SKU",
            T.REFERENCE,
            ref=Ref("products", "sku"),
            synonyms=("Parent", "Parent Product", "Master SKU", "Base SKU"),
            help_text="A variant such as 11400-BE belongs to its parent 11400.",
        ),
        Field(
            "description",
            "Description",
            synonyms=("Details", "Long Description"),
            default_export=False,
        ),
        LEGACY,
        Field(
            "attributes",
            "Attributes",
            T.JSON,
            synonyms=("Extra", "Properties", "Extra Fields"),
            default_export=False,
            help_text='Anything else about the product, as a JSON object: {"grade": "A"}.',
        ),
    )


@registry.register
class CustomerResource(Resource):
    name = "customers"
    label = "Customers"
    description = "Who you invoice, with credit limits."
    model = m.Customer
    key = ("code",)
    fields = (
        Field(
            "code",
            "Customer code",
            required=True,
            max_length=64,
            synonyms=("Customer Code", "Customer Number", "Customer ID", "Account Number", "No"),
        ),
        Field(
            "name",
            "Name",
            required=True,
            max_length=200,
            synonyms=("Customer Name", "Company", "Customer"),
        ),
        Field(
            "customer_type",
            "Type",
            T.CHOICE,
            choices=choices(m.Customer.Type),
            synonyms=("Customer Type", "Segment", "Channel"),
            default=m.Customer.Type.RETAIL,
        ),
        Field("email", "Email", T.EMAIL, max_length=254, synonyms=("E-mail", "Email Address")),
        Field("phone", "Phone", max_length=50, synonyms=("Telephone", "Tel")),
        Field("address", "Address", max_length=300, synonyms=("Street", "Address Line 1")),
        Field(
            "postal_code",
            "Postal code",
            max_length=20,
            synonyms=("Postcode", "Post Code", "ZIP", "Zip Code", "PLZ"),
        ),
        Field("city", "City", max_length=100, synonyms=("Town",)),
        Field("country", "Country", max_length=100, synonyms=("Nation", "Country Name")),
        Field("credit_limit", "Credit limit", T.MONEY, synonyms=("Credit", "Limit")),
        Field(
            "credit_status",
            "Credit status",
            T.CHOICE,
            choices=choices(m.Customer.CreditStatus),
            synonyms=("Credit Standing",),
            default=m.Customer.CreditStatus.GOOD,
        ),
        Field("is_active", "Active", T.BOOLEAN, synonyms=("Enabled", "Status"), default=True),
        LEGACY,
    )


@registry.register
class CreditTransactionResource(Resource):
    name = "credit-transactions"
    label = "Credit transactions"
    description = "Charges and payments on customer credit: the basis of credit aging."
    model = m.CreditTransaction
    key = ("reference",)
    fields = (
        Field(
            "reference",
            "Reference",
            required=True,
            max_length=64,
            synonyms=("Ref", "Transaction ID", "Document", "Invoice Number"),
        ),
        Field(
            "customer",
            "Customer code",
            T.REFERENCE,
            required=True,
            ref=Ref("customers", "code"),
            synonyms=("Customer", "Customer Code", "Customer Number"),
        ),
        Field("date", "Date", T.DATE, required=True, synonyms=("Transaction Date", "Posted")),
        Field(
            "kind",
            "Kind",
            T.CHOICE,
            required=True,
            choices=choices(m.CreditTransaction.Kind),
            synonyms=("Type", "Transaction Type"),
        ),
        Field("amount", "Amount", T.MONEY, required=True, synonyms=("Value", "Total")),
        Field("note", "Note", max_length=300, synonyms=("Memo", "Description")),
        LEGACY,
    )


@registry.register
class WarehouseResource(Resource):
    name = "warehouses"
    label = "Warehouses"
    description = "Warehouses and stores that hold stock."
    model = m.Warehouse
    key = ("code",)
    fields = (
        Field(
            "code",
            "Warehouse code",
            required=True,
            max_length=32,
            synonyms=("Code", "Store Code", "Location Code", "Site"),
        ),
        Field(
            "name",
            "Name",
            required=True,
            max_length=200,
            synonyms=("Warehouse", "Warehouse Name", "Store", "Store Name"),
        ),
        Field("city", "City", max_length=100, synonyms=("Town",)),
        Field("is_store", "Store", T.BOOLEAN, synonyms=("Is Store", "Retail"), default=False),
        LEGACY,
    )


@registry.register
class SalesOrderResource(Resource):
    name = "sales-orders"
    label = "Sales orders"
    description = (
        "Orders with their lines. One file may carry both: order fields repeated or left blank "
        "on the continuation rows."
    )
    model = m.SalesOrder
    key = ("number",)
    fields = (
        Field(
            "number",
            "Order number",
            required=True,
            max_length=64,
            synonyms=("Order", "Order No", "Order Number", "Order ID", "SO Number", "Document"),
        ),
        Field(
            "customer",
            "Customer code",
            T.REFERENCE,
            required=True,
            ref=Ref("customers", "code"),
            synonyms=("Customer", "Customer Code", "Customer Number", "Client"),
        ),
        Field("order_date", "Order date", T.DATE, required=True, synonyms=("Date", "Ordered")),
        Field(
            "status",
            "Status",
            T.CHOICE,
            choices=choices(m.SalesOrder.Status),
            synonyms=("Order Status", "State"),
            default=m.SalesOrder.Status.DRAFT,
        ),
        Field(
            "warehouse",
            "Warehouse code",
            T.REFERENCE,
            ref=Ref("warehouses", "code"),
            synonyms=("Warehouse", "Store", "Location"),
        ),
        Field("notes", "Notes", synonyms=("Comment", "Remarks"), default_export=False),
        LEGACY,
    )
    # The line fields a combined orders-with-lines file may carry (see SalesOrderLineResource).
    line_resource = "sales-order-lines"
    # The records page prints orders as documents (reports/documents): a batch panel above the
    # table, a selection box and a "PDF" menu on each row.
    records_actions_template = "documents/records_batch.html"
    records_select_template = "documents/records_select.html"
    records_row_template = "documents/records_row_menu.html"


@registry.register
class SalesOrderLineResource(Resource):
    name = "sales-order-lines"
    label = "Sales order lines"
    description = "Order lines: product by SKU, quantity, price, cost, discount and tax."
    model = m.SalesOrderLine
    key = ("order", "line_number")
    # ERP order-detail exports carry no line number: each order's lines are numbered in file order.
    numbering = Numbering(field="line_number", within="order")
    fields = (
        Field(
            "order",
            "Order number",
            T.REFERENCE,
            required=True,
            ref=Ref("sales-orders", "number"),
            synonyms=("Order", "Order No", "Order Number", "Order ID", "SO Number"),
        ),
        Field(
            "line_number",
            "Line",
            T.INTEGER,
            required=True,
            synonyms=("Line No", "Line Number", "Position", "Item No"),
        ),
        Field(
            "product",
            "Product SKU",
            T.REFERENCE,
            required=True,
            ref=Ref("products", "sku"),
            synonyms=("SKU", "Product", "Item", "Item Code", "Product Code"),
        ),
        Field(
            "quantity", "Quantity", T.DECIMAL, required=True, synonyms=("Qty", "Units", "Amount")
        ),
        Field(
            "unit_price",
            "Unit price",
            T.MONEY,
            required=True,
            synonyms=("Price", "Sale Price", "Selling Price"),
        ),
        Field("unit_cost", "Unit cost", T.MONEY, synonyms=("Cost", "Cost Price")),
        Field("discount", "Discount", T.MONEY, synonyms=("Discount Amount", "Rebate")),
        Field("tax", "Tax", T.MONEY, synonyms=("VAT", "Sales Tax", "Tax Amount")),
        Field("tax_rate", "Tax rate (%)", T.DECIMAL, synonyms=("VAT Rate", "Tax %", "VAT %")),
    )


@registry.register
class StockItemResource(Resource):
    name = "stock-items"
    label = "Stock items"
    description = "How much of each product each warehouse holds."
    model = m.StockItem
    key = ("product", "warehouse")
    fields = (
        Field(
            "product",
            "Product SKU",
            T.REFERENCE,
            required=True,
            ref=Ref("products", "sku"),
            synonyms=("SKU", "Product", "Item", "Item Code"),
        ),
        Field(
            "warehouse",
            "Warehouse code",
            T.REFERENCE,
            required=True,
            ref=Ref("warehouses", "code"),
            synonyms=("Warehouse", "Store", "Location Code"),
        ),
        Field("quantity", "Quantity", T.DECIMAL, synonyms=("Qty", "On Hand", "Stock", "Units")),
        Field(
            "reorder_level",
            "Reorder level",
            T.DECIMAL,
            synonyms=("Reorder Point", "Minimum", "Min Qty"),
        ),
        Field("location", "Bin location", max_length=64, synonyms=("Bin", "Shelf", "Location")),
        Field(
            "status",
            "Status",
            T.CHOICE,
            choices=choices(m.StockItem.Status),
            synonyms=("Stock Status",),
            default=m.StockItem.Status.IN_STOCK,
        ),
    )


@registry.register
class StockMovementResource(Resource):
    name = "stock-movements"
    label = "Stock movements"
    description = "Transfers, receipts and issues of stock."
    model = m.StockMovement
    key = ("reference",)
    fields = (
        Field(
            "reference",
            "Reference",
            required=True,
            max_length=64,
            synonyms=("Ref", "Movement ID", "Document", "Transfer Number"),
        ),
        Field(
            "product",
            "Product SKU",
            T.REFERENCE,
            required=True,
            ref=Ref("products", "sku"),
            synonyms=("SKU", "Product", "Item"),
        ),
        Field(
            "from_warehouse",
            "From warehouse",
            T.REFERENCE,
            ref=Ref("warehouses", "code"),
            synonyms=("From", "Source Warehouse", "Origin"),
        ),
        Field(
            "to_warehouse",
            "To warehouse",
            T.REFERENCE,
            ref=Ref("warehouses", "code"),
            synonyms=("To", "Destination", "Target Warehouse"),
        ),
        Field("quantity", "Quantity", T.DECIMAL, required=True, synonyms=("Qty", "Units")),
        Field("date", "Date", T.DATE, required=True, synonyms=("Movement Date", "Posted")),
        Field("note", "Note", max_length=300, synonyms=("Memo", "Comment")),
    )


@registry.register
class AuditEventResource(Resource):
    name = "audit-events"
    label = "Audit trail"
    description = "Who did what and when. Export only."
    model = m.AuditEvent
    importable = False
    export_restricted = True
    key = ("time", "event_type", "object_id")
    fields = (
        Field("time", "Time", T.DATETIME, importable=False),
        Field(
            "event_type", "Event", T.CHOICE, choices=choices(m.AuditEvent.Type), importable=False
        ),
        Field("user", "User", T.REFERENCE, ref=Ref("users", "username"), importable=False),
        Field("object_type", "Object type", importable=False),
        Field("object_id", "Object ID", importable=False),
        Field("object_repr", "Object", importable=False),
        Field("ip_address", "IP address", importable=False),
    )
