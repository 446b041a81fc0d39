"""Adding a model to Ferry is one resource declaration (DESIGN.md, "One resource per model").

A model Ferry has never heard of is declared here, in this test module, with one ``Resource``
subclass and nothing else: no permission list, no engine branch, no exporter, no form edit.
Its table is created for the test and dropped after. Then it is imported (engine, CLI),
exported (builder path and CLI) and permission-checked, as any built-in model is.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, models

from accounts.permissions import ALL_CODES, ROLE_CODES, Role, codes_for
from business.models import OrgModel, unique_per_org
from business.resources import Field, Resource, registry, resources_for
from jobs.models import DataJob
from jobs.services import JobProgress
from reports.exporters import export_create, export_run, exporter_get
from reports.exporters.base import ExportPermissionDenied
from tests.wizard.test_engine import draft, media_in_tmp, write_file  # noqa: F401
from wizard.services import ImportNotAllowed, import_run_now

pytestmark = pytest.mark.django_db(transaction=True)  # the table is created with DDL


def _declare():
    """The model and its ONE resource declaration (what a developer writes)."""

    class Gadget(OrgModel):
        code = models.CharField(max_length=32)
        name = models.CharField(max_length=100)
        weight = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)

        class Meta:
            app_label = "business"
            verbose_name = "gadget"
            verbose_name_plural = "gadgets"
            constraints = [unique_per_org("code", name="test_gadget_unique_code")]

    class GadgetResource(Resource):
        name = "gadgets"
        label = "Gadgets"
        description = "Declared by a test: nothing else in Ferry names it."
        model = Gadget
        key = ("code",)
        fields = (
            Field("code", "Gadget code", required=True, max_length=32, synonyms=("Code",)),
            Field("name", "Name", required=True, max_length=100),
            Field("weight", "Weight", "decimal"),
        )

    return Gadget, GadgetResource


@pytest.fixture
def gadgets(transactional_db):
    Gadget, GadgetResource = _declare()
    with connection.schema_editor() as editor:
        editor.create_model(Gadget)
    registry.register(GadgetResource)  # the one line a declaration's decorator runs
    try:
        yield GadgetResource
    finally:
        registry.unregister(GadgetResource)
        with connection.schema_editor() as editor:
            editor.delete_model(Gadget)
        apps.all_models["business"].pop("gadget", None)
        apps.clear_cache()


def gadget_file(tmp_path):
    return write_file(
        tmp_path,
        [["Code", "Name", "Weight"], ["G-1", "Sprocket", "1.50"], ["G-2", "Widget", "2"]],
        name="gadgets.csv",
    )


def test_it_derives_the_permission_codes_from_the_declaration(gadgets, org, member, viewer):
    assert {"can_import_gadget", "can_export_gadget", "can_export_gadget_pdf"} <= ALL_CODES
    assert "can_import_gadget" in ROLE_CODES[Role.OPS]
    assert "can_import_gadget" not in codes_for(Role.VIEWER)
    ops = member.memberships.get(organization=org)
    looker = viewer.memberships.get(organization=org)
    assert gadgets in resources_for(ops, "import")
    assert gadgets not in resources_for(looker, "import")
    assert gadgets in resources_for(looker, "export")


def test_it_imports_the_new_model_through_the_engine(gadgets, org, owner, tmp_path):
    job = draft(org, owner, "gadgets", gadget_file(tmp_path))
    # The mapping was suggested from the declaration's labels and synonyms.
    assert job.params["mapping"] == {"Code": "code", "Name": "name", "Weight": "weight"}
    job = import_run_now(job=job)
    assert job.status == DataJob.Status.COMPLETED, job.summary
    rows = gadgets.model.objects.filter(organization=org).order_by("code")
    assert [(g.code, g.name, str(g.weight)) for g in rows] == [
        ("G-1", "Sprocket", "1.50"),
        ("G-2", "Widget", "2.00"),
    ]


def test_it_refuses_an_import_by_someone_without_the_derived_code(gadgets, org, viewer, tmp_path):
    job = draft(org, viewer, "gadgets", gadget_file(tmp_path))
    job = import_run_now(job=job)
    assert job.status == DataJob.Status.FAILED
    assert not gadgets.model.objects.exists()
    with pytest.raises(ImportNotAllowed):
        from wizard.services import import_run

        import_run(job=job, progress=None)


def test_it_imports_the_new_model_from_the_command_line(gadgets, org, owner, tmp_path):
    out = io.StringIO()
    # Exit code 0 (no SystemExit) and one JSON object.
    call_command("import_data", "gadgets", str(gadget_file(tmp_path)), "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["status"] == "completed" and data["created"] == 2
    assert gadgets.model.objects.filter(organization=org).count() == 2


def test_it_exports_the_new_model_with_its_permission_checked(
    gadgets, org, owner, viewer, other_org, tmp_path
):
    gadgets.model.objects.create(organization=org, code="G-9", name="Gear")
    gadgets.model.objects.create(organization=other_org, code="X-1", name="Secret")
    assert exporter_get("gadgets").resource is gadgets
    job = export_create(organization=org, user=viewer, exporter="gadgets", format="csv")
    export_run(job=job, progress=JobProgress(job))
    job.refresh_from_db()
    with job.output_file.open("rb") as fh:
        rows = list(csv.reader(io.StringIO(fh.read().decode("utf-8-sig"))))
    assert rows == [["Gadget code", "Name", "Weight"], ["G-9", "Gear", ""]]
    # A viewer exports spreadsheets but no PDF: the derived PDF code is not theirs.
    with pytest.raises(ExportPermissionDenied):
        export_create(organization=org, user=viewer, exporter="gadgets", format="pdf")
    target = tmp_path / "gadgets.json"
    call_command(
        "export_data",
        "gadgets",
        "--format",
        "json",
        "--output",
        str(target),
        "--org",
        org.slug,
        stdout=io.StringIO(),
    )
    assert [g["code"] for g in json.loads(target.read_text())] == ["G-9"]
