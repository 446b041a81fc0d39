"""manage.py import_data / undo_import: exit codes, JSON output, flags."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from business.models import Contact
from jobs.models import DataJob
from library.models import DataTemplate
from tests.factories import ContactFactory, OrganizationFactory
from tests.wizard.test_engine import media_in_tmp, write_file  # noqa: F401


def cli(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command(*args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def good(tmp_path):
    return write_file(tmp_path, [["Email", "First name"], ["a@x.com", "Ann"], ["b@x.com", "Bob"]])


def test_it_imports_and_prints_json_with_exit_code_0(org, owner, good):
    code, out, err = cli("import_data", "contacts", str(good), "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert set(data) >= {
        "job_id",
        "status",
        "mapping",
        "total",
        "created",
        "updated",
        "skipped",
        "failed",
        "errors",
    }
    assert data["status"] == "completed"
    assert data["mapping"] == {"Email": "email", "First name": "first_name"}
    assert (data["total"], data["created"], data["failed"], data["errors"]) == (2, 2, 0, [])
    job = DataJob.objects.get(pk=data["job_id"])
    assert (job.organization, job.user, job.job_type) == (org, owner, "import")


def test_it_exits_2_and_lists_errors_when_rows_fail(org, owner, tmp_path):
    path = write_file(
        tmp_path,
        [["Email", "Birthday"]]
        + [[f"bad{i}", "2024-99-01"] for i in range(60)]
        + [["ok@x.com", ""]],
    )
    code, out, _ = cli("import_data", "contacts", str(path), "--json")
    assert code == 2
    data = json.loads(out)
    assert (data["created"], data["failed"]) == (1, 60)
    assert len(data["errors"]) == 100
    assert data["errors"][0] == {
        "row": 2,
        "column": "Email",
        "value": "bad0",
        "message": "Row 2, column 'Email': 'bad0' is not a valid e-mail address",
    }


def test_it_exits_2_when_an_atomic_import_is_rolled_back(org, owner, tmp_path):
    path = write_file(tmp_path, [["Email"], ["a@x.com"], ["nope"]])
    code, out, _ = cli("import_data", "contacts", str(path), "--mode", "atomic", "--json")
    assert code == 2
    data = json.loads(out)
    assert (data["status"], data["created"], data["failed"], data["rolled_back"]) == (
        "failed",
        0,
        1,
        True,
    )
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["people", "FILE"], "Unknown resource 'people'"),
        (["contacts", "/no/such/file.csv"], "No such file: /no/such/file.csv"),
        (["contacts", "FILE", "--map", "Email"], '--map needs "File header=field"'),
        (
            ["contacts", "FILE", "--map", "Email=shoe_size"],
            "'shoe_size' is not a field of contacts",
        ),
        (["contacts", "FILE", "--template", "Nope"], "No import template named 'Nope'"),
        (["contacts", "FILE", "--org", "nope"], "No organization with the slug 'nope'"),
        (["contacts", "FILE", "--user", "ghost@x.com"], "No user 'ghost@x.com'"),
        (["contacts", "FILE", "--encoding", "klingon"], "Unknown encoding 'klingon'"),
        (["contacts", "FILE", "--map", "Email="], "required field 'Email'"),
        ([], "Give RESOURCE and FILE"),
    ],
)
def test_it_exits_1_with_a_message_for_unusable_arguments(org, owner, good, args, message):
    args = [str(good) if a == "FILE" else a for a in args]
    code, out, err = cli("import_data", *args)
    assert code == 1
    assert message in err
    assert not Contact.objects.exists()


def test_it_exits_1_for_an_unreadable_file(org, owner, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    code, out, err = cli("import_data", "contacts", str(path), "--json")
    # --json: the error is the one JSON object on stdout.
    assert code == 1 and err == ""
    assert json.loads(out) == {**json.loads(out), "status": "error"}
    assert not DataJob.objects.exists()


def test_it_needs_an_org_when_there_are_several(org, owner, other_org, good):
    code, _, err = cli("import_data", "contacts", str(good))
    assert code == 1 and "--org SLUG" in err
    code, _, _ = cli(
        "import_data", "contacts", str(good), "--org", "demo", "--user", "owner@example.com"
    )
    assert code == 0
    assert Contact.objects.filter(organization=org).count() == 2


def test_it_refuses_a_user_outside_the_organization(org, owner, outsider, good):
    code, _, err = cli("import_data", "contacts", str(good), "--user", outsider.username)
    assert code == 1 and "is not a member" in err


def test_it_honours_map_duplicate_mode_dry_run_and_limit(org, owner, tmp_path):
    ContactFactory(organization=org, email="a@x.com", first_name="Old", last_name="Keep")
    path = write_file(
        tmp_path,
        [
            ["Mail", "Name", "X"],
            ["a@x.com", "New", "1"],
            ["b@x.com", "B", "2"],
            ["c@x.com", "C", "3"],
        ],
    )
    code, out, _ = cli(
        "import_data",
        "contacts",
        str(path),
        "--map",
        "Mail=email",
        "--map",
        "Name=First name",
        "--map",
        "X=",
        "--on-duplicate",
        "update",
        "--dry-run",
        "--json",
    )
    data = json.loads(out)
    assert code == 0
    assert data["mapping"] == {"Mail": "email", "Name": "first_name"}
    assert (data["would_create"], data["would_update"], data["created"]) == (2, 1, 0)
    assert Contact.objects.get(email="a@x.com").first_name == "Old"
    code, out, _ = cli(
        "import_data",
        "contacts",
        str(path),
        "--map",
        "Mail=email",
        "--map",
        "Name=first_name",
        "--on-duplicate",
        "update",
        "--limit",
        "2",
        "--json",
    )
    data = json.loads(out)
    assert (data["total"], data["created"], data["updated"]) == (2, 1, 1)
    assert Contact.objects.get(email="a@x.com").first_name == "New"


def test_it_uses_a_saved_template(org, owner, tmp_path):
    DataTemplate.objects.create(
        organization=org,
        name="CRM export",
        resource="contacts",
        mapping={"Courriel électronique": "email", "Société": "account"},
        options={"source": {"constant": "CRM"}},
    )
    path = write_file(tmp_path, [["Courriel électronique", "Société"], ["a@x.com", ""]])
    code, out, _ = cli("import_data", "contacts", str(path), "--template", "CRM export", "--json")
    assert code == 0, out
    assert json.loads(out)["mapping"] == {"Courriel électronique": "email", "Société": "account"}
    assert Contact.objects.get().source == "CRM"


def test_it_reads_sheet_encoding_delimiter_and_header_row_flags(org, owner, tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Exported by CRM\nE-mail|Prénom\na@x.com|Zoë\n".encode("cp1252"))
    code, out, _ = cli(
        "import_data",
        "contacts",
        str(path),
        "--encoding",
        "cp1252",
        "--delimiter",
        "|",
        "--header-row",
        "2",
        "--json",
    )
    assert code == 0, out
    assert Contact.objects.get().first_name == "Zoë"


def test_it_queues_the_job_for_the_worker(org, owner, good):
    code, out, _ = cli("import_data", "contacts", str(good), "--queue", "--json")
    data = json.loads(out)
    assert code == 0 and data["status"] == "queued"
    assert DataJob.objects.get(pk=data["job_id"]).status == "queued"
    assert not Contact.objects.exists()


def test_it_prints_a_readable_summary(org, owner, tmp_path):
    path = write_file(tmp_path, [["Email"], ["a@x.com"], ["bad"]])
    code, out, _ = cli("import_data", "contacts", str(path))
    assert code == 2
    assert "2 rows: 1 created, 0 updated, 0 skipped, 1 failed" in out
    assert "Row 3, column 'Email': 'bad' is not a valid e-mail address" in out
    assert "Undo with: manage.py undo_import" in out


def test_it_draws_a_progress_bar_on_a_terminal():
    from jobs.console import TerminalProgress

    class Inner:
        def set_total(self, total):
            pass

        def update(self, **kwargs):
            return True

    stream = io.StringIO()
    bar = TerminalProgress(stream, inner=Inner())
    bar.set_total(10)
    bar.update(processed=5, force=True)
    bar.finish()
    assert "50.0%" in stream.getvalue() and "5/10 rows" in stream.getvalue()


def test_it_describes_a_resource_as_json(db):
    code, out, _ = cli("import_data", "--describe", "contacts")
    data = json.loads(out)
    assert code == 0 and data["name"] == "contacts" and data["key"] == ["email"]
    email = next(f for f in data["fields"] if f["name"] == "email")
    assert email == {**email, "label": "Email", "type": "email", "required": True, "key": True}
    assert "E-mail" in email["synonyms"]
    code, _, err = cli("import_data", "--describe", "nope")
    assert code == 1 and "Unknown resource" in err


# --- undo_import -----------------------------------------------------------------------------


def test_it_undoes_an_import_from_the_command_line(org, owner, good):
    _, out, _ = cli("import_data", "contacts", str(good), "--json")
    job_id = json.loads(out)["job_id"]
    code, out, _ = cli("undo_import", str(job_id), "--json")
    assert code == 0
    assert json.loads(out) == {
        "job_id": job_id,
        "status": "undone",
        "deleted": 2,
        "restored": 0,
        "conflicts": [],
        "skipped_conflicts": 0,
        "force": False,
        "by_model": [
            {
                "model": "contacts",
                "label": "Contacts",
                "delete": 2,
                "cascade": 0,
                "restore": 0,
                "unlink": 0,
                "kept": 0,
            }
        ],
    }
    assert not Contact.objects.exists()
    code, _, err = cli("undo_import", str(job_id))
    assert code == 1 and "already been undone" in err


def test_it_keeps_edited_records_unless_forced_on_the_command_line(org, owner, good):
    _, out, _ = cli("import_data", "contacts", str(good), "--json")
    job_id = json.loads(out)["job_id"]
    ann = Contact.objects.get(email="a@x.com")
    ann.title = "Boss"
    ann.save()
    code, out, _ = cli("undo_import", str(job_id))
    assert code == 2
    assert "1 records were left alone" in out
    assert "Contact 'a@x.com' was changed after the import; it was kept." in out
    code, out, _ = cli("undo_import", str(job_id), "--force")
    assert code == 0 and not Contact.objects.exists()


def test_it_exits_1_for_an_unknown_job(db):
    code, _, err = cli("undo_import", "999")
    assert code == 1 and "No import job 999" in err


def test_it_picks_the_only_organization_and_its_admin(db, good):
    org = OrganizationFactory(slug="solo")
    from tests.factories import MembershipFactory, UserFactory

    admin = UserFactory(username="boss")
    MembershipFactory(user=admin, organization=org, role="admin")
    code, out, _ = cli("import_data", "contacts", str(good), "--json")
    job = DataJob.objects.get(pk=json.loads(out)["job_id"])
    assert (job.organization, job.user) == (org, admin)
