"""A chosen encoding must be a text encoding: one check for the wizard, the CLI and the API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.models import DataJob
from tests.wizard.test_engine import media_in_tmp  # noqa: F401
from wizard.readers import ReaderError, ReadOptions, encoding_clean
from wizard.services import import_create

CSV = b"Email,First name\nada@example.com,Ada\n"


@pytest.mark.parametrize("codec", ["rot13", "rot_13", "base64", "zlib", "hex", "bz2", "uu"])
def test_it_refuses_a_codec_that_is_not_a_text_encoding(codec):
    with pytest.raises(ReaderError, match="is not a text encoding"):
        encoding_clean(codec)
    with pytest.raises(ReaderError, match="is not a text encoding"):
        ReadOptions(encoding=codec)


@pytest.mark.parametrize(
    "given, name", [("UTF-8", "utf-8"), ("latin1", "iso8859-1"), ("cp1252", "cp1252"), ("", None)]
)
def test_it_accepts_text_encodings_by_any_name(given, name):
    assert encoding_clean(given) == name


def test_it_names_an_unknown_encoding():
    with pytest.raises(ReaderError, match="Unknown encoding 'klingon'"):
        encoding_clean("klingon")


def test_it_refuses_it_when_creating_an_import(org, owner):
    upload = SimpleUploadedFile("people.csv", CSV, content_type="text/csv")
    with pytest.raises(ReaderError, match="'rot13' is not a text encoding"):
        import_create(
            organization=org,
            user=owner,
            resource="contacts",
            file=upload,
            filename="people.csv",
            read={"encoding": "rot13"},
        )
    assert not DataJob.objects.exists()


@pytest.mark.parametrize("codec", ["rot13", "base64", "zlib"])
def test_it_answers_400_on_the_api_not_500(org, member, codec):
    from tests.api.conftest import make_token, token_client

    api = token_client(make_token(member, org))
    upload = SimpleUploadedFile("people.csv", CSV, content_type="text/csv")
    response = api.post(
        "/api/v1/contacts/import/", {"file": upload, "encoding": codec}, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert "is not a text encoding" in str(response.json())
    assert not DataJob.objects.exists()
