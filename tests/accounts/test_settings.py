import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.formats import date_format, money_format, number_format, quantity_format
from accounts.models import Organization
from accounts.services import organization_logo_data_uri

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
FIELDS = {
    "name": "Acme",
    "address_line1": "1 Quay",
    "address_line2": "",
    "postal_code": "8001",
    "city": "Zürich",
    "country": "Switzerland",
    "vat_number": "CHE-123.456.789 MWST",
    "email": "billing@acme.example.com",
    "phone": "+41 44 000 00 00",
    "website": "",
    "currency": "CHF",
    "locale": "de-CH",
}


def test_it_formats_money_numbers_and_dates_per_locale():
    gb = Organization(currency="GBP", locale="en-GB")
    de = Organization(currency="EUR", locale="de-DE")
    ch = Organization(currency="CHF", locale="de-CH")
    us = Organization(currency="USD", locale="en-US")
    assert money_format(Decimal("1234567.895"), organization=gb) == "£1,234,567.90"
    assert money_format(Decimal("-0.005"), organization=gb) == "-£0.01"
    assert money_format(Decimal("1234.5"), organization=de) == "1.234,50\u00a0€"
    assert money_format(Decimal("1234.5"), organization=ch) == "CHF\u00a01’234.50"
    assert number_format(Decimal("2.5"), organization=de, places=3) == "2,500"
    assert quantity_format(Decimal("2.500"), organization=gb) == "2.5"
    assert quantity_format(Decimal("3.000"), organization=gb) == "3"
    day = dt.date(2026, 1, 31)
    assert date_format(day, organization=us) == "01/31/2026"
    assert date_format(day, organization=ch) == "31.01.2026"


@pytest.mark.django_db
def test_it_saves_settings_and_a_sniffed_logo_served_only_to_members(
    owner_client, org, outsider, client_for
):
    url = reverse("accounts:settings")
    logo = SimpleUploadedFile("logo.txt", PNG, content_type="text/plain")
    response = owner_client.post(url, {**FIELDS, "logo_upload": logo})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.currency == "CHF" and org.city == "Zürich"
    assert org.logo.name.startswith(f"organizations/{org.pk}/logo")
    assert org.logo.name.endswith(".png")
    assert organization_logo_data_uri(organization=org).startswith("data:image/png;base64,")
    served = owner_client.get(reverse("accounts:logo"))
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert client_for(outsider).get(reverse("accounts:logo")).status_code == 302
    page = owner_client.get(url)
    assert "CHF\u00a01’234’567.89" in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content",
    [b"GIF89a......", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"],
)
def test_it_refuses_a_logo_that_is_not_png_jpeg_or_plain_svg(owner_client, org, content):
    logo = SimpleUploadedFile("logo.png", content, content_type="image/png")
    response = owner_client.post(reverse("accounts:settings"), {**FIELDS, "logo_upload": logo})
    assert response.status_code == 400
    org.refresh_from_db()
    assert not org.logo and org.currency == "GBP"


@pytest.mark.django_db
def test_it_lets_only_org_admins_change_settings(member_client, manager_client):
    assert member_client.get(reverse("accounts:settings")).status_code == 403
    assert manager_client.get(reverse("accounts:settings")).status_code == 403
