"""Limits before work: width and header size are refused from the first bytes, oversize
uploads from their declared length; a refused upload leaves no file and no job behind."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jobs.errors import LimitExceeded
from jobs.models import DataJob
from wizard.readers import file_inspect, rows_read

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def wide_csv(columns: int, rows: int = 3) -> bytes:
    header = ",".join(f"column {index}" for index in range(columns))
    row = ",".join(str(index) for index in range(columns))
    return ("\n".join([header] + [row] * rows) + "\n").encode()


def wizard_upload(client, content: bytes, name: str = "wide.csv", **extra):
    return client.post(
        reverse("wizard:start"),
        {"resource": "contacts", "file": SimpleUploadedFile(name, content, "text/csv")},
        **extra,
    )


# --- the readers ---------------------------------------------------------------------------


def test_it_refuses_an_80000_column_csv_from_its_first_line_quickly(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes(wide_csv(80_000))
    started = time.perf_counter()
    with pytest.raises(LimitExceeded) as refused:
        file_inspect(path)
    elapsed = time.perf_counter() - started
    assert refused.value.message == (
        "This file has 80,000 columns; Ferry reads files with at most 2,000 columns. "
        "Remove the columns you do not need, or split the file."
    )
    # Sniffing and header detection alone took over 2 s on this file.
    assert elapsed < 0.5, f"refusing took {elapsed:.2f} s"


def test_it_counts_columns_by_any_delimiter_before_sniffing_it(tmp_path, settings):
    settings.FERRY = {**settings.FERRY, "MAX_COLUMNS": 10}
    path = tmp_path / "wide.tsv"
    path.write_text("\t".join(f"c{index}" for index in range(11)) + "\n" + "x\t" * 10 + "x\n")
    with pytest.raises(LimitExceeded, match="This file has 11 columns"):
        file_inspect(path)


def test_it_reads_a_file_exactly_as_wide_as_the_limit(tmp_path, settings):
    settings.FERRY = {**settings.FERRY, "MAX_COLUMNS": 10}
    path = tmp_path / "ten.csv"
    path.write_bytes(wide_csv(10, rows=2))
    info = file_inspect(path)
    assert len(info.headers) == 10
    assert len(list(rows_read(path, info=info))) == 2


def test_it_refuses_a_wide_header_below_a_title_block(tmp_path, settings):
    settings.FERRY = {**settings.FERRY, "MAX_COLUMNS": 10}
    path = tmp_path / "titled.csv"
    path.write_bytes(b"Contacts export\n\n" + wide_csv(50))
    with pytest.raises(LimitExceeded, match="This file has 50 columns"):
        file_inspect(path)


def test_it_refuses_a_first_line_longer_than_the_header_limit(tmp_path, settings):
    settings.FERRY = {**settings.FERRY, "MAX_HEADER_BYTES": 1024}
    path = tmp_path / "long.csv"
    path.write_bytes(b"Name" + b"x" * 5000 + b"\nAda\n")
    with pytest.raises(LimitExceeded) as refused:
        file_inspect(path)
    assert "The first line of this file is longer than 1 KB" in refused.value.message


def test_it_refuses_json_records_with_too_many_keys(tmp_path, settings):
    settings.FERRY = {**settings.FERRY, "MAX_COLUMNS": 10}
    path = tmp_path / "wide.json"
    path.write_text(json.dumps([{f"key {index}": index for index in range(11)}]))
    with pytest.raises(LimitExceeded, match="This file has 11 columns"):
        file_inspect(path)


def test_it_refuses_a_too_wide_sheet(tmp_path, settings):
    settings.FERRY = {**settings.FERRY, "MAX_COLUMNS": 10}
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([f"c{index}" for index in range(12)])
    sheet.append(list(range(12)))
    path = tmp_path / "wide.xlsx"
    workbook.save(path)
    with pytest.raises(LimitExceeded, match="This file has 12 columns"):
        file_inspect(path)


# --- the wizard upload and the API ---------------------------------------------------------


def test_it_refuses_a_wide_upload_in_the_wizard_and_keeps_nothing(member_client, media_root):
    started = time.perf_counter()
    response = wizard_upload(member_client, wide_csv(80_000))
    elapsed = time.perf_counter() - started
    assert response.status_code == 400
    assert "This file has 80,000 columns" in response.content.decode()
    assert elapsed < 2, f"the refusal took {elapsed:.2f} s"
    assert not DataJob.objects.exists()
    assert stored_files(media_root) == []


def test_it_refuses_a_wide_upload_in_the_api_and_keeps_nothing(member, org, media_root):
    from rest_framework.test import APIClient

    from api.tokens import token_create

    _, raw = token_create(user=member, organization=org, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.post(
        "/api/v1/contacts/import/",
        {"file": SimpleUploadedFile("wide.csv", wide_csv(80_000), "text/csv")},
        format="multipart",
    )
    assert response.status_code == 413
    assert "This file has 80,000 columns" in response.json()["error"]
    assert not DataJob.objects.exists()
    assert stored_files(media_root) == []


class UnreadableBody(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def __init__(self) -> None:
        self.reads = 0

    def read(self, *args):
        self.reads += 1
        raise AssertionError("the body of an oversize upload was read")

    readline = read


def test_it_refuses_an_oversize_declared_length_without_reading_the_body(
    member_client, settings, media_root
):
    settings.FERRY = {**settings.FERRY, "MAX_UPLOAD_BYTES": 5 * 1024 * 1024}
    body = UnreadableBody()
    response = member_client.generic(
        "POST",
        reverse("wizard:start"),
        content_type="multipart/form-data; boundary=ferry",
        **{"wsgi.input": body, "CONTENT_LENGTH": str(200 * 1024 * 1024)},
    )
    assert response.status_code == 413
    assert body.reads == 0
    html = response.content.decode()
    assert "The file is larger than the 5 MB upload limit. Split it into smaller files." in html
    assert 'id="upload-form"' in html
    assert not DataJob.objects.exists()
    assert stored_files(media_root) == []


def test_it_answers_a_script_upload_over_the_limit_with_json_413(member_client, settings):
    settings.FERRY = {**settings.FERRY, "MAX_UPLOAD_BYTES": 1024}
    body = UnreadableBody()
    response = member_client.generic(
        "POST",
        reverse("wizard:start"),
        content_type="multipart/form-data; boundary=ferry",
        headers={"x-requested-with": "XMLHttpRequest"},
        **{"wsgi.input": body, "CONTENT_LENGTH": str(10 * 1024 * 1024)},
    )
    assert response.status_code == 413
    assert response.json() == {
        "errors": {
            "file": [
                {
                    "message": "The file is larger than the 1 KB upload limit. "
                    "Split it into smaller files.",
                    "code": "limit",
                }
            ]
        }
    }


def test_it_still_checks_the_csrf_token_of_an_upload(member, settings):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = wizard_upload(client, b"Email\nada@example.com\n")
    assert response.status_code == 403
    assert not DataJob.objects.exists()
