"""The records pages: /records/ and /records/<resource>/."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from business import models as m
from business.resources import registry
from tests import factories as f

pytestmark = pytest.mark.django_db


def list_url(name: str, query: str = "") -> str:
    url = reverse("business:list", args=[name])
    return f"{url}?{query}" if query else url


def listed(response) -> list:
    """The records on the rendered page (the table's current page)."""
    return [row.record for row in response.context["table"].paginated_rows]


# --- one record per resource, with the same natural key in every organization ---------------


def _account(org):
    return m.Account.objects.get_or_create(organization=org, name="Acme Shared")[0]


def _customer(org):
    return m.Customer.objects.get_or_create(
        organization=org, code="C-1", defaults={"name": f"Customer of {org.slug}"}
    )[0]


def _product(org):
    return m.Product.objects.get_or_create(
        organization=org, sku="11400", defaults={"name": "Bench vice"}
    )[0]


def _warehouse(org):
    return m.Warehouse.objects.get_or_create(
        organization=org, code="WH1", defaults={"name": "Main"}
    )[0]


def _order(org):
    return m.SalesOrder.objects.get_or_create(
        organization=org,
        number="SO-1",
        defaults={"customer": _customer(org), "order_date": dt.date(2024, 5, 1)},
    )[0]


BUILDERS = {
    "accounts": _account,
    "contacts": lambda org: f.ContactFactory(
        organization=org, email="same@example.com", account=_account(org)
    ),
    "leads": lambda org: f.LeadFactory(organization=org, email="same@example.com"),
    "product-categories": lambda org: f.ProductCategoryFactory(
        organization=org,
        name="Hand tools",
        parent=f.ProductCategoryFactory(organization=org, name="Tools"),
    ),
    "products": _product,
    "customers": _customer,
    "credit-transactions": lambda org: f.CreditTransactionFactory(
        organization=org, customer=_customer(org), reference="CT-1"
    ),
    "warehouses": _warehouse,
    "sales-orders": _order,
    "sales-order-lines": lambda org: f.SalesOrderLineFactory(
        organization=org, order=_order(org), line_number=1, product=_product(org)
    ),
    "stock-items": lambda org: f.StockItemFactory(
        organization=org, product=_product(org), warehouse=_warehouse(org)
    ),
    "stock-movements": lambda org: f.StockMovementFactory(
        organization=org, reference="MV-1", product=_product(org), to_warehouse=_warehouse(org)
    ),
    "audit-events": lambda org: m.AuditEvent.objects.create(
        organization=org, time=timezone.now(), event_type="export", object_id="same"
    ),
}


def test_it_has_a_builder_for_every_resource():
    assert set(BUILDERS) == {r.name for r in registry.all()}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_it_never_lists_another_organizations_records(name, org, other_org, owner, other_user):
    from django.test import Client

    mine = BUILDERS[name](org)
    theirs = BUILDERS[name](other_org)
    assert mine.pk != theirs.pk

    for user, own, foreign in ((owner, mine, theirs), (other_user, theirs, mine)):
        client = Client()
        client.force_login(user)
        response = client.get(list_url(name))
        assert response.status_code == 200
        records = listed(response)
        pks = {r.pk for r in records}
        assert own.pk in pks
        assert foreign.pk not in pks
        assert {r.organization_id for r in records} == {own.organization_id}

        index = client.get(reverse("business:index"))
        counts = {row["resource"].name: row["count"] for row in index.context["rows"]}
        resource = registry.get(name)
        assert counts[name] == resource.queryset(own.organization).count()


def test_it_lists_every_resource_with_its_count(owner_client, org, other_org):
    f.ContactFactory.create_batch(3, organization=org)
    f.ContactFactory.create_batch(5, organization=other_org)
    response = owner_client.get(reverse("business:index"))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r["resource"].name for r in rows] == [r.name for r in registry.all()]
    assert {r["resource"].name: r["count"] for r in rows}["contacts"] == 3
    assert {r["resource"].name: r["count"] for r in rows}["contacts"] == 3
    html = response.content.decode()
    assert "<h1>Records</h1>" in html
    for resource in registry.all():
        assert list_url(resource.name) in html


def test_it_shows_reference_columns_as_natural_keys(owner_client, org):
    BUILDERS["sales-order-lines"](org)
    html = owner_client.get(list_url("sales-order-lines")).content.decode()
    assert "<td >SO-1</td>" in html
    assert "<td >11400</td>" in html
    BUILDERS["contacts"](org)
    html = owner_client.get(list_url("contacts")).content.decode()
    assert "Acme Shared" in html


def test_it_does_not_query_per_row(owner_client, org):
    def queries(n: int) -> int:
        for _ in range(n):
            f.StockMovementFactory(
                organization=org,
                product=f.ProductFactory(organization=org),
                from_warehouse=f.WarehouseFactory(organization=org),
                to_warehouse=f.WarehouseFactory(organization=org),
            )
        with CaptureQueriesContext(connection) as ctx:
            assert owner_client.get(list_url("stock-movements", "per_page=100")).status_code == 200
        return len(ctx.captured_queries)

    assert queries(2) == queries(30)


def test_it_sorts_by_a_column_and_by_a_reference(owner_client, org):
    for email, account in (("b@x.com", "Zeta"), ("a@x.com", "Mu"), ("c@x.com", "Alpha")):
        f.ContactFactory(
            organization=org, email=email, account=f.AccountFactory(organization=org, name=account)
        )
    asc = [c.email for c in listed(owner_client.get(list_url("contacts", "sort=email")))]
    assert asc == ["a@x.com", "b@x.com", "c@x.com"]
    desc = [c.email for c in listed(owner_client.get(list_url("contacts", "sort=-email")))]
    assert desc == ["c@x.com", "b@x.com", "a@x.com"]
    by_account = listed(owner_client.get(list_url("contacts", "sort=account")))
    assert [c.account.name for c in by_account] == ["Alpha", "Mu", "Zeta"]
    html = owner_client.get(list_url("contacts", "sort=email")).content.decode()
    assert 'href="?sort=-email"' in html


def test_it_paginates_by_25_50_or_100(owner_client, org):
    f.ContactFactory.create_batch(60, organization=org)
    assert len(listed(owner_client.get(list_url("contacts")))) == 25
    assert len(listed(owner_client.get(list_url("contacts", "page=3")))) == 10
    assert len(listed(owner_client.get(list_url("contacts", "per_page=50")))) == 50
    assert len(listed(owner_client.get(list_url("contacts", "per_page=100")))) == 60
    # Any other page size falls back to the default rather than letting a URL ask for 10 million.
    assert len(listed(owner_client.get(list_url("contacts", "per_page=7")))) == 25
    response = owner_client.get(list_url("contacts", "page=2&lifecycle_stage=lead"))
    html = response.content.decode()
    assert "Rows 26–50 of 60" in html
    assert "page=3" in html and "lifecycle_stage=lead" in html


def test_it_filters_and_links_the_filtered_view_to_export(owner_client, org):
    f.ContactFactory(organization=org, email="c1@x.com", lifecycle_stage="customer")
    f.ContactFactory(organization=org, email="c2@x.com", lifecycle_stage="customer")
    f.ContactFactory(organization=org, email="l1@x.com", lifecycle_stage="lead")
    response = owner_client.get(list_url("contacts", "lifecycle_stage=customer&sort=-email&page=1"))
    assert [c.email for c in listed(response)] == ["c2@x.com", "c1@x.com"]
    assert response.context["table"].paginator.count == 2
    assert response.context["export_url"] == "/export/?resource=contacts&lifecycle_stage=customer"
    assert response.context["import_url"] == "/import/?resource=contacts"
    html = response.content.decode()
    assert 'href="/export/?resource=contacts&amp;lifecycle_stage=customer"' in html
    assert 'href="/import/?resource=contacts"' in html
    assert "Lifecycle stage: Customer" in html


@pytest.mark.parametrize("name", [r.name for r in registry.all() if r.name != "audit-events"])
def test_it_gives_every_filter_a_visible_label(owner_client, org, name):
    html = owner_client.get(list_url(name)).content.decode()
    start = html.index('<form class="records-filters')
    form = html[start : html.index("</form>", start)]
    ids = re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', form)
    assert ids
    for control_id in ids:
        labelled = f'for="{control_id}"' in form
        # A checkbox sits inside its own <label>.
        wrapped = re.search(rf'<label[^>]*>\s*<input[^>]*id="{control_id}"', form)
        assert labelled or wrapped, control_id
    assert (
        "<legend>Order date</legend>" in owner_client.get(list_url("sales-orders")).content.decode()
    )


def test_it_explains_an_invalid_filter_instead_of_failing(owner_client, org):
    f.SalesOrderFactory(customer=f.CustomerFactory(organization=org))
    response = owner_client.get(list_url("sales-orders", "order_date_from=2024-13-01"))
    assert response.status_code == 200
    assert listed(response) == []
    html = response.content.decode()
    assert "Filter &#x27;order_date_from&#x27;: &#x27;2024-13-01&#x27; is not a valid date" in html
    response = owner_client.get(list_url("sales-orders", "colour=red"))
    assert response.status_code == 200
    assert "Unknown filter &#x27;colour&#x27;" in response.content.decode()


def test_it_answers_htmx_with_the_results_fragment(owner_client, org):
    f.ContactFactory(organization=org, email="ada@x.com")
    response = owner_client.get(
        list_url("contacts", "email=ada"),
        headers={"HX-Request": "true", "HX-Target": "records-results"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="records-results"')
    assert "ada@x.com" in html
    assert "<h1>" not in html


def test_it_shows_money_and_quantities_readably(owner_client, org):
    f.ProductFactory(organization=org, sku="P1", unit_cost=Decimal("1234.5"))
    f.StockItemFactory(organization=org, quantity=Decimal("2.500"))
    assert "1,234.50" in owner_client.get(list_url("products")).content.decode()
    assert ">2.5<" in owner_client.get(list_url("stock-items")).content.decode()


def test_it_answers_an_unknown_resource_with_404(owner_client):
    assert owner_client.get("/records/elephants/").status_code == 404


def test_it_sends_anonymous_visitors_to_login(client):
    for url in (reverse("business:index"), list_url("contacts")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_it_sends_a_user_without_organization_away(client_for, outsider):
    response = client_for(outsider).get(list_url("contacts"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:no_organization")


def test_it_lets_every_member_browse_but_links_only_what_they_may_do(viewer_client, org):
    f.ContactFactory(organization=org)
    response = viewer_client.get(list_url("contacts"))
    assert response.status_code == 200
    assert len(listed(response)) == 1
    assert response.context["can_import"] is False
    assert 'href="/import/?resource=contacts"' not in response.content.decode()


def test_it_shows_the_last_page_for_a_page_past_the_end(owner_client, org):
    f.ContactFactory.create_batch(30, organization=org)
    assert len(listed(owner_client.get(list_url("contacts", "page=99")))) == 5
    assert len(listed(owner_client.get(list_url("contacts", "page=abc")))) == 25
    assert len(listed(owner_client.get(list_url("contacts", "sort=no_such_column")))) == 25


def test_it_keeps_the_audit_trail_to_members_who_may_view_it(member_client, manager_client, org):
    BUILDERS["audit-events"](org)
    assert member_client.get(list_url("audit-events")).status_code == 403
    names = {r["resource"].name for r in member_client.get("/records/").context["rows"]}
    assert "audit-events" not in names and "contacts" in names
    assert manager_client.get(list_url("audit-events")).status_code == 200


def _tbody(html: str) -> str:
    body = re.search(r"<tbody.*?</tbody>", html, re.S).group(0)
    body = re.sub(r"<(tbody|tr|td) >", r"<\1>", body)
    return re.sub(r"\s*(<|>)\s*", r"\1", re.sub(r"\s+", " ", body))


@pytest.mark.parametrize("name", [r.name for r in registry.all()])
def test_it_writes_the_same_rows_as_django_tables2s_cell_by_cell_rendering(rf, owner, org, name):
    """RecordsTable.rows_html skips django-tables2's per-cell machinery: every cell must still
    read, format, escape and default exactly as django-tables2's own template writes it."""
    from django.template import RequestContext, Template

    from accounts.models import Membership
    from business.resources import resource_get
    from business.selectors import records_filtered
    from business.tables import table_build

    BUILDERS[name](org)
    # Blanks, a False, a missing reference and markup to escape, where the resource has them.
    f.ContactFactory(organization=org, email="<b>x@x.com</b>", phone="", account=None)
    f.ContactFactory(organization=org, email="y@x.com", do_not_email=True, birth_date=None)
    f.StockItemFactory(organization=org, quantity=Decimal("3.000"))
    f.ProductFactory(organization=org, sku="P&1", unit_cost=Decimal("1234.5"))
    res = resource_get(name)
    qs = records_filtered(resource=res, organization=org, data={}, ignore=())
    assert qs.exists()
    page = Template("{% load django_tables2 %}{% render_table table template %}")
    request = rf.get("/", {"sort": "-" + res.default_export_fields()[0].name})
    request.user, request.organization = owner, org
    request.membership = Membership.objects.get(user=owner, organization=org)

    def rendered(template: str) -> str:
        table = table_build(resource=res, queryset=qs, request=request, per_page=25)
        context = RequestContext(request, {"table": table, "template": template})
        return page.render(context)

    ours = rendered("business/records_table.html")
    assert _tbody(ours) == _tbody(rendered("django_tables2/table.html"))
    assert _tbody(ours).count("<tr") == min(qs.count(), 25)


def test_it_marks_every_column_header_as_a_column_header(owner_client, org):
    BUILDERS["sales-orders"](org)
    html = owner_client.get(list_url("sales-orders")).content.decode()
    head = html[html.index("<thead") : html.index("</thead>")]
    assert head.count("<th ") == head.count('<th scope="col"') > 0
