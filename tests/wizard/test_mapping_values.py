"""Auto-mapping on header and values together, and learning from corrections (issue 11, 2–3).

Files are built like the exports people really have: thousands of rows, ID-like product codes,
US state names, two price columns, ERP headers, another system's numeric category IDs.
"""

from __future__ import annotations

import csv
import io
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jobs.errors import FerryError
from jobs.models import DataJob
from library.models import DataTemplate
from tests.factories import ProductCategoryFactory
from wizard import flow
from wizard.learning import learned_record
from wizard.mapping import mapping_missing_required, mapping_suggest
from wizard.models import LearnedMapping
from wizard.services import (
    import_configure,
    import_create,
    import_preview_start,
    import_run_now,
    import_start,
)

pytestmark = pytest.mark.django_db

STATES = ["California", "Texas", "New York", "Florida", "Ohio", "Oregon", "Nevada", "Maine"]


def csv_file(name: str, headers: list[str], rows: list[list]) -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


def retail_products(count: int = 5000) -> SimpleUploadedFile:
    rnd = random.Random(11)
    headers = ["Product ID", "Product Name", "Sale price", "Regular price", "categoryID", "Made"]
    rows = []
    for n in range(count):
        regular = rnd.randint(500, 90000) / 100
        rows.append(
            [
                f"ABC-DE-{10001798 + n}",
                f"Trail shoe {n}",
                f"{regular * 0.8:.2f}",
                f"{regular:.2f}",
                rnd.randint(1, 77),
                rnd.choice(["yes", "no"]),
            ]
        )
    return csv_file("retail-products.csv", headers, rows)


def erp_products(count: int = 3000) -> SimpleUploadedFile:
    headers = ["Internal Reference", "Name", "Cost", "Product Category", "Barcode"]
    rows = [
        [f"FURN_{7000 + n:05d}", f"Desk {n}", f"{100 + n % 50}.00", "Bikes", f"40{n:011d}"]
        for n in range(count)
    ]
    return csv_file("erp-products.csv", headers, rows)


def crm_contacts(count: int = 4000) -> SimpleUploadedFile:
    rnd = random.Random(3)
    headers = ["Email", "First Name", "Last Name", "State", "Artikelnummer"]
    rows = [
        [f"person{n}@example.com", f"Ann{n}", f"Lee{n}", rnd.choice(STATES), f"A{n}"]
        for n in range(count)
    ]
    return csv_file("crm-contacts.csv", headers, rows)


def by_header(job: DataJob) -> dict[str, list]:
    return flow.wizard_state(job).suggestions


def wizard_upload(user, org, resource: str, file) -> DataJob:
    return flow.wizard_start(
        organization=org, user=user, resource=resource, file=file, filename=file.name
    )


# --- case 2: header and values together ------------------------------------------------------


def test_it_maps_id_like_codes_to_the_sku_and_never_to_a_yes_no_field(org, member):
    ProductCategoryFactory(organization=org, name="Bikes")
    job = wizard_upload(member, org, "products", retail_products())
    s = by_header(job)
    assert s["Product ID"][:2] == ["sku", "synonym"]
    assert s["Product ID"][3] == "header matches synonym 'Product ID'; 100 % of sampled values fit"
    assert job.params["mapping"]["Product ID"] == "sku"
    manufactured = [h for h, f in job.params["mapping"].items() if f == "is_manufactured"]
    assert manufactured == ["Made"]  # the yes/no column, not the codes
    assert s["Made"][:2] == ["is_manufactured", "synonym"]


def test_it_takes_the_regular_price_as_list_price_and_leaves_the_sale_price_out(org, member):
    job = wizard_upload(member, org, "products", retail_products())
    s = by_header(job)
    assert s["Regular price"][:2] == ["list_price", "synonym"]
    assert s["Sale price"][0] is None
    assert s["Sale price"][3] == "Left unmapped: no field's name or synonyms resemble 'Sale price'."


def test_it_leaves_numeric_category_ids_unmapped_and_says_why(org, member):
    ProductCategoryFactory(organization=org, name="Bikes")
    ProductCategoryFactory(organization=org, name="Parts")
    job = wizard_upload(member, org, "products", retail_products())
    field, reason, _, why = by_header(job)["categoryID"]
    assert (field, reason) == (None, "")
    assert "categoryID" not in job.params["mapping"]
    assert why.startswith("Left unmapped: header resembles 'Category'")
    assert "100 % of sampled values are numbers, and product categories are found by name" in why


def test_it_never_maps_numeric_ids_to_categories_even_before_any_exist(org, member):
    job = wizard_upload(member, org, "products", retail_products(200))
    assert by_header(job)["categoryID"][0] is None


def test_it_maps_internal_reference_to_the_sku_and_checks_categories_exist(org, member):
    ProductCategoryFactory(organization=org, name="Bikes")
    job = wizard_upload(member, org, "products", erp_products())
    s = by_header(job)
    assert s["Internal Reference"][:2] == ["sku", "synonym"]
    assert s["Product Category"][:2] == ["category", "synonym"]
    assert s["Product Category"][3] == (
        "header matches synonym 'Product Category'; "
        "100 % of sampled values are existing product categories"
    )
    assert s["Barcode"][:2] == ["barcode", "exact"]


def test_it_resolves_references_with_one_lookup_per_referenced_resource(org):
    ProductCategoryFactory(organization=org, name="Bikes")
    headers = ["Category", "Product Category", "Family", "SKU"]
    rows = [["Bikes", "Bikes", f"Fam {n}", f"S{n}"] for n in range(20)]
    with CaptureQueriesContext(connection) as queries:
        mapping_suggest(resource="products", headers=headers, sample_rows=rows, organization=org)
    tables = [q["sql"] for q in queries.captured_queries if "productcategory" in q["sql"]]
    # Exact keys, then the case-insensitive retry for the rest, then "are there any?": never
    # a query per value or per column.
    assert len(tables) <= 3, tables


def test_it_does_not_map_us_states_to_a_lifecycle_stage(org, member):
    job = wizard_upload(member, org, "contacts", crm_contacts())
    field, reason, _, why = by_header(job)["State"]
    assert (field, reason) == (None, "")
    assert "header resembles 'Stage'" in why and "Lifecycle stage" in why
    assert "0 % of sampled values are one of Lifecycle stage's choices" in why


def test_it_does_not_map_us_states_to_an_order_status(org):
    rows = [[f"SO-{n}", STATES[n % 8]] for n in range(40)]
    s = mapping_suggest(resource="sales-orders", headers=["Order ID", "State"], sample_rows=rows)
    assert [x.field for x in s] == ["number", None]


def test_it_names_the_column_that_took_a_field(org):
    rows = [[f"A-{n}", f"B-{n}"] for n in range(20)]
    s = mapping_suggest(resource="products", headers=["SKU", "Item Code"], sample_rows=rows)
    assert [x.field for x in s] == ["sku", None]
    assert s[1].why == "Left unmapped: SKU is taken by column 'SKU'."


def test_it_prefers_the_key_for_a_column_of_unique_codes(org):
    rows = [[f"Widget {n % 3}", f"ZX-{9000 + n}"] for n in range(20)]
    s = mapping_suggest(resource="products", headers=["Title", "Item no"], sample_rows=rows)
    assert (s[1].field, s[1].reason) == ("sku", "similar")
    assert s[1].why.startswith("the values are unique codes and SKU is the key")


# --- one rule for required fields -------------------------------------------------------------

ORDERS = ["Order Number", "Customer", "Order Date", "SKU", "Qty"]


def orders_file() -> SimpleUploadedFile:
    rows = [[f"SO-{n // 3}", "C-1", "2024-03-01", f"P-{n % 7}", n % 5 + 1] for n in range(3000)]
    return csv_file("orders.csv", ORDERS, rows)


def test_it_shows_and_enforces_the_same_missing_fields_for_orders_with_lines(member_client):
    member_client.post(reverse("wizard:start"), {"resource": "sales-orders", "file": orders_file()})
    job = DataJob.objects.filter(job_type="import").latest("pk")
    assert job.params["mapping"]["Qty"] == "quantity"
    page = member_client.get(reverse("wizard:map", args=[job.pk])).content.decode()
    assert "1 required field not mapped yet" in page and "Unit price (for every row)" in page
    assert "Every required field is mapped" not in page
    missing = [f.label for f in flow.missing_required(job)]
    assert missing == ["Unit price"]
    with pytest.raises(FerryError, match="'Unit price'"):
        import_start(job=job)
    response = member_client.post(
        reverse("wizard:map", args=[job.pk]),
        {f"col_{i}": job.params["mapping"].get(h, "") for i, h in enumerate(ORDERS)},
    )
    assert response.status_code == 400
    # A value for every row satisfies both the box and the start check alike.
    data = {f"col_{i}": job.params["mapping"].get(h, "") for i, h in enumerate(ORDERS)}
    data.update({"opt_unit_price_default": "9.50", "action": "autosave"})
    body = member_client.post(
        reverse("wizard:map", args=[job.pk]), data, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Every required field is mapped" in body
    job.refresh_from_db()
    assert (
        mapping_missing_required(
            resource="sales-orders", mapping=job.params["mapping"], options=job.params["options"]
        )
        == []
    )


def test_it_does_not_ask_for_line_fields_when_no_line_field_is_mapped():
    mapping = {"Order Number": "number", "Customer": "customer", "Order Date": "order_date"}
    assert mapping_missing_required(resource="sales-orders", mapping=mapping) == []


# --- the dropdowns: used fields marked, a field twice refused ---------------------------------


def test_it_marks_used_fields_and_refuses_a_field_mapped_twice(member_client, org):
    file = erp_products(50)
    member_client.post(reverse("wizard:start"), {"resource": "products", "file": file})
    job = DataJob.objects.filter(job_type="import").latest("pk")
    page = member_client.get(reverse("wizard:map", args=[job.pk])).content.decode()
    assert "SKU * (used by &#x27;Internal Reference&#x27;)" in page
    headers = job.params["file_info"]["headers"]
    data = {f"col_{i}": job.params["mapping"].get(h, "") for i, h in enumerate(headers)}
    data.update({"col_1": "sku", "action": "autosave"})
    body = member_client.post(
        reverse("wizard:map", args=[job.pk]), data, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert (
        '<div id="col-error-1" class="col-error" hx-swap-oob="true"><ul class="errorlist"' in body
    )
    assert "&#x27;SKU&#x27; is already mapped from column &#x27;Internal Reference&#x27;" in body
    job.refresh_from_db()
    assert job.params["mapping"]["Name"] == "name"  # the refused choice was not saved


# --- case 3: learning from corrections ----------------------------------------------------------


def correct_and_run(job: DataJob, header: str, field: str, *, run=import_run_now) -> DataJob:
    mapping = dict(job.params["mapping"])
    mapping[header] = field
    import_configure(job=job, mapping=mapping)
    job.refresh_from_db()
    return run(job=job)


def test_it_learns_a_correction_when_the_import_runs(org, member, other_org, other_user):
    first = wizard_upload(member, org, "contacts", crm_contacts(3000))
    assert by_header(first)["Artikelnummer"][0] is None
    correct_and_run(first, "Artikelnummer", "notes")
    learned = LearnedMapping.objects.get(organization=org)
    assert (learned.header, learned.field, learned.user, learned.times) == (
        "Artikelnummer",
        "notes",
        member,
        1,
    )
    again = wizard_upload(member, org, "contacts", crm_contacts(2000))
    field, reason, _, why = by_header(again)["Artikelnummer"]
    day = learned.last_used_at
    assert (field, reason) == ("notes", "learned")
    assert why == f"you mapped 'Artikelnummer' to Notes on {day.day} {day:%b}"
    assert again.params["mapping"]["Artikelnummer"] == "notes"
    # Another organization never sees it.
    theirs = wizard_upload(other_user, other_org, "contacts", crm_contacts(100))
    assert by_header(theirs)["Artikelnummer"][0] is None
    assert "Artikelnummer" not in theirs.params["mapping"]


def test_it_names_who_made_the_choice_for_someone_else(org, member, owner):
    correct_and_run(
        wizard_upload(member, org, "contacts", crm_contacts(100)), "Artikelnummer", "notes"
    )
    later = wizard_upload(owner, org, "contacts", crm_contacts(100))
    who = member.get_full_name() or member.get_username()
    assert by_header(later)["Artikelnummer"][3].startswith(f"{who} mapped 'Artikelnummer' to Notes")


def test_it_learns_on_the_queued_start_but_never_from_a_preview(org, member):
    job = wizard_upload(member, org, "contacts", crm_contacts(500))
    mapping = {**job.params["mapping"], "Artikelnummer": "source"}
    import_configure(job=job, mapping=mapping)
    job.refresh_from_db()
    import_preview_start(job=job)
    assert not LearnedMapping.objects.exists()
    job.refresh_from_db()
    import_start(job=job)
    assert LearnedMapping.objects.get().field == "source"


def test_it_counts_a_kept_choice_and_forgets_one_set_back(org, member):
    correct_and_run(
        wizard_upload(member, org, "contacts", crm_contacts(100)), "Artikelnummer", "notes"
    )
    kept = wizard_upload(member, org, "contacts", crm_contacts(100))
    import_run_now(job=kept)
    assert LearnedMapping.objects.get().times == 2
    back = wizard_upload(member, org, "contacts", crm_contacts(100))
    mapping = {h: f for h, f in back.params["mapping"].items() if h != "Artikelnummer"}
    import_configure(job=back, mapping=mapping)
    back.refresh_from_db()
    assert learned_record(job=back) == []
    assert not LearnedMapping.objects.exists()


def test_it_lets_a_template_win_over_a_learned_choice(org, member, owner):
    correct_and_run(
        wizard_upload(member, org, "contacts", crm_contacts(100)), "Artikelnummer", "notes"
    )
    template = DataTemplate.objects.create(
        organization=org,
        created_by=owner,
        name="CRM export",
        resource="contacts",
        mapping={"Email": "email", "Artikelnummer": "source"},
        is_shared=True,
    )
    job = wizard_upload(member, org, "contacts", crm_contacts(100))
    flow.wizard_apply_template(job=job, template=template)
    job.refresh_from_db()
    assert job.params["mapping"]["Artikelnummer"] == "source"
    assert by_header(job)["Artikelnummer"][:2] == ["source", "template"]
    assert by_header(job)["Artikelnummer"][3] == "the template 'CRM export' maps it to Source"


def test_it_learns_from_the_command_line_path_too(org, member):
    file = crm_contacts(50)
    job = import_create(
        organization=org, user=member, resource="contacts", file=file, filename=file.name
    )
    correct_and_run(job, "State", "source")
    assert LearnedMapping.objects.get().header == "State"
