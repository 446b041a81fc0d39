"""Django admin names every model in proper English ("job log entries", not "job log entrys")."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.contrib import admin

PROJECT_APPS = {"accounts", "jobs", "business", "library", "wizard", "reports", "sync", "api"}
# Endings a naive "+s" produces: a consonant before "ys", doubled sibilants, "xs", "chs", "shs".
WRONG_PLURAL = re.compile(r"([^aeiou]ys|sss|[^s]ss|xs|chs|shs|zs)$")


def project_models():
    return [m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS]


def test_it_checks_the_admin_site_ferry_uses():
    assert admin.site.is_registered(apps.get_model("jobs", "JobLogEntry"))


@pytest.mark.parametrize("model", project_models(), ids=lambda m: m._meta.label)
def test_it_names_every_model_explicitly_in_proper_english(model):
    meta = model._meta
    # Explicit, so a renamed class never brings back a made-up plural.
    assert "verbose_name" in meta.original_attrs, meta.label
    assert "verbose_name_plural" in meta.original_attrs, meta.label
    plural = str(meta.verbose_name_plural)
    assert not WRONG_PLURAL.search(plural), f"{meta.label}: {plural!r}"
    assert plural == plural.strip() and "  " not in plural


@pytest.mark.parametrize("model", [m for m in admin.site._registry], ids=lambda m: m._meta.label)
def test_it_shows_proper_plurals_in_the_admin(model):
    plural = str(model._meta.verbose_name_plural)
    assert not WRONG_PLURAL.search(plural), f"{model._meta.label}: {plural!r}"


def test_it_names_the_ones_that_were_wrong():
    assert apps.get_model("jobs", "JobLogEntry")._meta.verbose_name_plural == "job log entries"
    assert apps.get_model("api", "ApiToken")._meta.verbose_name_plural == "API tokens"
    assert apps.get_model("jobs", "DataJob")._meta.verbose_name_plural == "jobs"
    assert (
        apps.get_model("business", "ProductCategory")._meta.verbose_name_plural
        == "product categories"
    )


def test_it_reads_well_on_the_admin_index(client, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    client.force_login(superuser)
    html = client.get("/django-admin/").content.decode()
    assert "Job log entries" in html and "entrys" not in html.lower()
