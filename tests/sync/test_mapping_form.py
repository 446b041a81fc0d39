"""The mapping editor on the connection page: targets, transforms, constants, write-back, the
live preview through the engine's parser, and the messages a wrong mapping gets."""

from __future__ import annotations

import pytest
from django.urls import reverse

from business.models import Product
from sync.services import connection_test, sync_run_now

pytestmark = pytest.mark.django_db


def reels_rows(reels):
    from tests.sync.conftest import external_rows

    return external_rows(reels_path(reels)).items()


def reels_path(reels):
    from django.conf import settings

    return settings.FERRY_SYNC_ROOT / reels.path


HTMX = {"HTTP_HX_REQUEST": "true"}


def _post(reels, **changes) -> dict:
    """The form as the page sends it for the connection's current mapping, with changes."""
    stock = {v: f"stock:{k}" for k, v in reels.stock.items()}
    columns = connection_test(connection=reels).columns
    data = {}
    for i, column in enumerate(columns):
        data[f"target__{i}"] = reels.mapping.get(column) or stock.get(column) or ""
        data[f"transform__{i}"] = ""
        data[f"param__{i}"] = ""
    data["join__name"] = "grade, gsm, width"
    for state, value in reels.sold_statuses:
        data[f"sold__{state}"] = value
    for name, column in reels.writeback.items():
        data[f"wb__{name}"] = column
    data["writeback_username"] = "ferry"
    for name, value in changes.items():
        if name in columns:
            target, *transform = value
            i = columns.index(name)
            data[f"target__{i}"] = target
            if transform:
                data[f"transform__{i}"], data[f"param__{i}"] = transform
        else:
            data[name] = value
    return data


def test_it_shows_the_editor_with_the_current_mapping(owner_client, reels):
    page = owner_client.get(reverse("sync:mapping", args=[reels.pk]), **HTMX)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="target__5"' in html  # grade (after id, reel_number, width, gsm, length)
    assert '<option value="category" selected>' in html
    assert 'value="grade, gsm, width"' in html


def test_it_saves_targets_transforms_constants_and_write_back(org, owner, owner_client, reels):
    url = reverse("sync:mapping", args=[reels.pk])
    data = _post(
        reels,
        width=("unit_cost", "multiply", "0.5"),
        comments=("description",),
        profile_name=("", "value_map", "Standard=STD; Heavy duty=HD"),
        receive_date=("", "date_format", "%Y-%m-%d"),
        constant__is_purchased="yes",
        sold__invoiced="Sold out",
        wb__username="",
    )
    response = owner_client.post(url, data)
    assert response.status_code == 302, response.context["error"]
    reels.refresh_from_db()
    assert reels.mapping["width"] == "unit_cost" and reels.mapping["comments"] == "description"
    assert reels.transforms["width"] == {"multiply": "0.5"}
    assert reels.transforms["profile_name"] == {
        "value_map": {"Standard": "STD", "Heavy duty": "HD"}
    }
    assert reels.options["is_purchased"]["constant"] == "yes"
    assert ["invoiced", "Sold out"] in reels.sold_statuses
    assert reels.writeback["username"] == ""
    job = sync_run_now(connection=reels, user=owner)
    assert job.status == "completed", job.error_message
    product = Product.objects.filter(organization=org).order_by("sku").first()
    link_values = reels.links.get(external_key=product.sku).values
    assert product.unit_cost == pytest.approx(float(link_values["width"]) * 0.5)
    assert product.description == (link_values["comments"] or "")
    assert product.is_purchased is True
    assert product.attributes["profile_name"] in ("STD", "HD", "Food grade", "Export")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"grade": ("no_such_field",)},
            "Column &#x27;grade&#x27; is mapped to &#x27;no_such_field&#x27;",
        ),
        ({"comments": ("category",)}, "are both mapped to &#x27;category&#x27;"),
        ({"width": ("unit_cost", "multiply", "lots")}, "needs a number, not &#x27;lots&#x27;"),
        ({"receive_date": ("", "date_format", "dd/mm")}, "needs strftime codes"),
        ({"profile_name": ("", "value_map", "Standard")}, "has no &#x27;=&#x27;"),
        ({"width": ("unit_cost", "multiply", "")}, "needs a number"),
        ({"join__name": "grade, nope"}, "joins &#x27;nope&#x27;"),
        ({"wb__status": "nope"}, "not a column of inventory"),
    ],
)
def test_it_refuses_a_wrong_mapping_with_a_clear_message(owner_client, reels, changes, message):
    before = (dict(reels.mapping), dict(reels.transforms), dict(reels.options))
    url = reverse("sync:mapping", args=[reels.pk])
    response = owner_client.post(url, _post(reels, **changes), **HTMX)
    assert response.status_code == 200
    assert message in response.content.decode()
    reels.refresh_from_db()
    assert (reels.mapping, reels.transforms, reels.options) == before


def test_it_previews_the_first_rows_through_the_engine_parser(owner_client, reels):
    url = reverse("sync:mapping-preview", args=[reels.pk])
    data = _post(reels, width=("unit_cost", "multiply", "2"), gsm=("list_price",))
    html = owner_client.post(url, data, **HTMX).content.decode()
    assert "Unit cost" in html and "List price" in html
    first = sorted(reels_rows(reels))[0]
    assert f"<td>{int(first[1]['width']) * 2}</td>" in html  # width × 2, as the sync reads it
    reels.refresh_from_db()
    assert "width" not in reels.mapping  # a preview saves nothing
    bad = owner_client.post(url, _post(reels, grade=("is_active",)), **HTMX).content.decode()
    # The engine's own parser and message: a grade is not a yes/no value.
    assert "grade: &#x27;Kraft&#x27; is not yes or no" in bad or "is not yes or no" in bad


def test_it_hides_another_organizations_mapping(other_client, reels):
    assert other_client.get(reverse("sync:mapping", args=[reels.pk])).status_code == 404
    url = reverse("sync:mapping-preview", args=[reels.pk])
    assert other_client.post(url, {}).status_code == 404


def test_it_needs_the_sync_permission(member_client, reels):
    assert member_client.get(reverse("sync:mapping", args=[reels.pk])).status_code == 403
