"""Import a file from the command line, through the same engine and job as the wizard.

Exit codes: 0 no row failed; 2 rows failed or an all-or-nothing import was rolled back;
1 the file, the arguments or a limit refused the import, or the job failed (the message is
on stderr; with --json it is the "message" of the one JSON object printed on stdout).
"""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from accounts.models import Membership, Organization
from accounts.permissions import Role
from business.resources import UnknownResource, resource_get
from jobs.console import JsonCommand, TerminalProgress, organization_from_option
from jobs.errors import FerryError
from jobs.models import DataJob
from library.models import DataTemplate
from wizard.engine.params import ImportParams
from wizard.mapping import mapping_targets

MAX_JSON_ERRORS = 100


EXIT_CODES = (
    "Exit status: 0 every row imported (or checked); 2 some rows failed, or an all-or-nothing "
    "import was rolled back; 1 the arguments, the file or a limit refused the import, or the "
    "job failed. With --json every outcome, errors included, is one JSON object on stdout."
)


class Command(JsonCommand):
    help = (
        "Import a CSV, Excel or JSON file into a resource (e.g. contacts, products, sales-orders). "
        + EXIT_CODES
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "resource", nargs="?", help="plural, hyphenated: contacts, sales-orders …"
        )
        parser.add_argument("file", nargs="?", help="the file to import")
        parser.add_argument(
            "--describe", metavar="RESOURCE", help="print the resource's fields as JSON"
        )
        parser.add_argument("--org", help="organization slug (default: the only one)")
        parser.add_argument(
            "--user", help="e-mail (or username) of the importing user (default: an admin)"
        )
        parser.add_argument("--template", help="name of a saved import template")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar='"File header=field"',
            help="map a column to a field (repeatable); an empty field ignores the column",
        )
        parser.add_argument("--sheet")
        parser.add_argument("--encoding")
        parser.add_argument("--delimiter")
        parser.add_argument("--header-row", type=int)
        parser.add_argument("--on-duplicate", choices=["skip", "update", "create"])
        parser.add_argument("--mode", choices=["atomic", "skip-invalid"])
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--limit", type=int)
        parser.add_argument(
            "--create-missing",
            action="append",
            default=[],
            metavar="FIELD",
            help="create missing related records for this reference field (repeatable)",
        )
        parser.add_argument(
            "--repeats",
            choices=["fail", "first", "last"],
            help="rows repeating a key with other values: fail them (default), or keep the "
            "first or the last row's values (identical repeats are always merged)",
        )
        parser.add_argument(
            "--rounding",
            choices=["reject", "half-up", "half-even"],
            help="money and decimals with more places than the field: refuse (default) or round",
        )
        parser.add_argument(
            "--date-format",
            action="append",
            default=[],
            metavar="FIELD=FORMAT",
            help="a date field's format (field name or label, repeatable): excel-1900 or "
            "excel-1904 for bare Excel date numbers, or a pattern such as %%d/%%m/%%Y",
        )
        parser.add_argument(
            "--targets",
            metavar="RESOURCES",
            help="import one flat file as several record types, e.g. "
            "customers,products,sales-orders (run in dependency order, one job, one undo), "
            "or 'auto' for the types the columns suggest; give FILE only",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--queue", action="store_true", help="send the job to the worker")

    def handle(self, *args, **options):
        self.exit_with(options, lambda: self._handle(options))

    def fail(self, message: str) -> CommandError:
        return CommandError(message, returncode=self.EXIT_UNUSABLE)

    def _handle(self, o) -> int:
        if o["describe"]:
            try:
                resource = resource_get(o["describe"])
            except UnknownResource as exc:
                raise self.fail(str(exc)) from None
            self.stdout.write(json.dumps(resource.describe(), indent=2, default=str))
            return 0
        if o["targets"]:
            return self._multi(o)
        if not o["resource"] or not o["file"]:
            raise self.fail("Give RESOURCE and FILE (or --describe RESOURCE).")
        from wizard.services import (
            import_configure,
            import_create,
            import_run_now,
            import_start,
        )

        try:
            resource = resource_get(o["resource"])
        except UnknownResource as exc:
            raise self.fail(str(exc)) from None
        path = Path(o["file"])
        if not path.is_file():
            raise self.fail(f"No such file: {path}")
        org = self._org(o["org"])
        user = self._user(org, o["user"])
        template = None
        if o["template"]:
            template = DataTemplate.objects.filter(
                organization=org, template_type="import", name=o["template"]
            ).first()
            if template is None:
                raise self.fail(f"No import template named '{o['template']}' in {org}.")
        read = {
            "sheet": o["sheet"],
            "encoding": o["encoding"],
            "delimiter": o["delimiter"],
            "header_row": o["header_row"],
        }
        try:
            with open(path, "rb") as fh:
                job = import_create(
                    organization=org,
                    user=user,
                    resource=resource.name,
                    file=fh,
                    filename=path.name,
                    read=read,
                )
            if template is not None:
                import_configure(job=job, template=template)
            mapping = ImportParams.from_job(job).mapping
            for item in o["map"]:
                header, sep, field = item.rpartition("=")
                if not sep:
                    raise FerryError(f"--map needs \"File header=field\", got '{item}'.")
                mapping.pop(header, None)
                if field.strip():
                    field_name = self._field(resource, field.strip())
                    mapping = {h: f for h, f in mapping.items() if f != field_name}
                    mapping[header] = field_name
            import_configure(
                job=job,
                mapping=mapping,
                on_duplicate=o["on_duplicate"],
                mode=o["mode"],
                dry_run=o["dry_run"] or None,
                limit=o["limit"],
                create_missing={f: True for f in o["create_missing"]} or None,
                repeats=o["repeats"],
                rounding=o["rounding"],
                date_formats=self._date_formats(o["date_format"]),
            )
            if o["queue"]:
                job = import_start(job=job)
                return self._report(job, o, queued=True)
            progress_wrap = None
            bar = None
            if not o["json"] and self.stderr.isatty():

                def progress_wrap(progress):
                    nonlocal bar
                    bar = TerminalProgress(self.stderr._out, inner=progress)
                    return bar

            job = import_run_now(job=job, progress_wrap=progress_wrap)
            if bar is not None:
                bar.finish()
        except FerryError as exc:
            raise self.fail(exc.message) from None
        return self._report(job, o)

    def _multi(self, o) -> int:
        """--targets: one job importing the file as several record types (wizard.multi)."""
        from wizard.multi import MultiTarget, import_multi_run, multi_targets_suggest

        path = Path(o["file"] or o["resource"] or "")
        if not path.is_file():
            raise self.fail(f"No such file: {path}")
        org = self._org(o["org"])
        user = self._user(org, o["user"])
        read = {k: o[k] for k in ("sheet", "encoding", "delimiter", "header_row")}
        try:
            targets = None
            if o["targets"].strip() != "auto":
                from wizard.readers import ReadOptions, file_inspect

                names = [n.strip() for n in o["targets"].split(",") if n.strip()]
                for name in names:
                    resource_get(name)
                info = file_inspect(str(path), options=ReadOptions.from_dict(read))
                found = {
                    t.resource: t
                    for t in multi_targets_suggest(
                        headers=info.headers, samples=info.sample_rows, organization=org
                    )
                }
                targets = [found.get(n) or MultiTarget(resource=n) for n in names]
            with open(path, "rb") as fh:
                job = import_multi_run(
                    organization=org,
                    user=user,
                    file=fh,
                    filename=path.name,
                    targets=targets,
                    on_duplicate=o["on_duplicate"] or "skip",
                    dry_run=o["dry_run"],
                    read=read,
                )
        except (FerryError, UnknownResource) as exc:
            raise self.fail(getattr(exc, "message", None) or str(exc)) from None
        s = job.summary or {}
        failed = int(s.get("failed") or 0)
        if o["json"]:
            out = {"job_id": job.pk, "status": job.status, "summary": s}
            if job.error_message:
                out["message"] = job.error_message
            self.stdout.write(json.dumps(out, default=str))
        else:
            verb = "Checked (dry run)" if s.get("dry_run") else "Imported"
            self.stdout.write(f"{verb} {job.input_filename} — job {job.pk}, {job.status}")
            new = "would_create" if s.get("dry_run") else "created"
            changed = "would_update" if s.get("dry_run") else "updated"
            for t in (s.get("targets") or {}).values():
                lines = t.get("lines")
                more = f"; lines {lines[new]:,} new" if lines else ""
                self.stdout.write(
                    f"  {t['label']}: {t[new]:,} new, {t[changed]:,} updated, "
                    f"{t['skipped']:,} skipped, {t['failed']:,} failed{more}"
                )
            if job.error_message:
                self.stderr.write(job.error_message)
        if job.status != DataJob.Status.COMPLETED:
            return 1
        return 2 if failed else 0

    @staticmethod
    def _date_formats(items: list[str]) -> dict[str, str] | None:
        formats = {}
        for item in items:
            field, sep, fmt = item.rpartition("=")
            if not sep or not field.strip() or not fmt.strip():
                raise FerryError(f"--date-format needs \"field=format\", got '{item}'.")
            formats[field.strip()] = fmt.strip()
        return formats or None

    def _field(self, resource, text: str) -> str:
        # The fields the wizard offers: a file that carries lines (orders) may name theirs too.
        targets = mapping_targets(resource)
        names = {name: name for name in targets}
        # The resource's own labels win over its lines' (targets list the resource's first).
        labels = {f.label.casefold(): f.name for f in reversed(targets.values())}
        found = names.get(text) or labels.get(text.casefold())
        if found is None:
            raise FerryError(
                f"'{text}' is not a field of {resource.label.lower()}. "
                f"Fields: {', '.join(sorted(names))}."
            )
        return found

    def _org(self, slug: str | None) -> Organization:
        return organization_from_option(slug, returncode=self.EXIT_UNUSABLE)

    def _user(self, org: Organization, who: str | None):
        User = get_user_model()
        if who:
            user = (
                User.objects.filter(email__iexact=who).first()
                or User.objects.filter(username=who).first()
            )
            if user is None:
                raise self.fail(f"No user '{who}'.")
            # The import permission itself is checked when the job runs, as for the wizard.
            if not Membership.objects.filter(user=user, organization=org).exists():
                raise self.fail(f"{who} is not a member of {org}.")
            return user
        membership = (
            Membership.objects.filter(organization=org, role=Role.ADMIN)
            .select_related("user")
            .order_by("pk")
            .first()
        )
        if membership is None:
            raise self.fail(f"{org} has no admin; choose the importing user with --user.")
        return membership.user

    def _report(self, job: DataJob, o, *, queued: bool = False) -> int:
        s = job.summary or {}
        rolled_back = bool(s.get("rolled_back"))
        failed = int(s.get("failed") or 0)
        if o["json"]:
            errors = []
            if not queued:
                errors = [
                    {
                        "row": e.row_number,
                        "column": e.column,
                        "value": e.value,
                        "message": e.message,
                    }
                    for e in job.log_entries.filter(level="error").order_by("row_number", "pk")[
                        :MAX_JSON_ERRORS
                    ]
                ]
            out = {
                "job_id": job.pk,
                "status": job.status,
                "mapping": ImportParams.from_job(job).mapping,
                "total": int(s.get("total") or 0),
                "created": int(s.get("created") or 0),
                "updated": int(s.get("updated") or 0),
                "skipped": int(s.get("skipped") or 0),
                "failed": failed,
                "errors": errors,
            }
            if s.get("dry_run"):
                out.update(
                    would_create=s.get("would_create", 0), would_update=s.get("would_update", 0)
                )
            if rolled_back:
                out["rolled_back"] = True
            # What the file itself needs decided: repeats, grouped problems, rounding, keys.
            for key in ("repeats", "repeats_merged", "repeats_conflicting", "problems"):
                if key in s:
                    out[key] = s[key]
            for key in ("rounded", "keys_used"):
                if s.get(key):
                    out[key] = s[key]
            if job.error_message:
                out["message"] = job.error_message
            if s.get("files", {}).get("failed-rows"):
                out["failed_rows_file"] = s["files"]["failed-rows"]["name"]
            self.stdout.write(json.dumps(out, default=str))
        elif queued:
            self.stdout.write(f"Import job {job.pk} queued; the worker will run it.")
        else:
            self._readable(job, s)
        if queued:
            return 0
        if job.status == DataJob.Status.FAILED and not rolled_back:
            if not o["json"]:
                self.stderr.write(job.error_message)
            return 1
        if job.status == DataJob.Status.CANCELLED:
            return 1
        return 2 if (failed or rolled_back) else 0

    def _readable(self, job: DataJob, s: dict) -> None:
        w = self.stdout.write
        verb = "Checked (dry run)" if s.get("dry_run") else "Imported"
        w(f"{verb} {job.target} from {job.input_filename} — job {job.pk}, {job.status}")
        mapping = ImportParams.from_job(job).mapping
        w("Mapping: " + ", ".join(f"{h} → {f}" for h, f in mapping.items()))
        if s.get("dry_run"):
            w(
                f"{s.get('total', 0):,} rows: {s.get('would_create', 0):,} would be created, "
                f"{s.get('would_update', 0):,} updated, {s.get('skipped', 0):,} skipped, "
                f"{s.get('failed', 0):,} failed"
            )
        else:
            w(
                f"{s.get('total', 0):,} rows: {s.get('created', 0):,} created, {s.get('updated', 0):,} "
                f"updated, {s.get('skipped', 0):,} skipped, {s.get('failed', 0):,} failed"
            )
        if s.get("rolled_back"):
            w("All or nothing: rows failed, so nothing was written.")
        self._file_notes(s)
        errors = list(job.log_entries.filter(level="error").order_by("row_number", "pk")[:20])
        for entry in errors:
            w(f"  {entry.message}")
        if s.get("failed", 0) > len(errors):
            w(f"  … and more: see job {job.pk}'s log.")
        files = s.get("files") or {}
        if files.get("failed-rows"):
            w(f"Failed rows written to {files['failed-rows']['name']} (media storage).")
        if s.get("created") or s.get("updated"):
            w(f"Undo with: manage.py undo_import {job.pk}")

    def _file_notes(self, s: dict) -> None:
        """Repeats, grouped problems (with the option that fixes each) and rounding."""
        w = self.stdout.write
        merged = int(s.get("repeats_merged") or 0)
        if merged:
            w(f"{merged:,} repeats merged (same values as an earlier row)")
        conflicting = int(s.get("repeats_conflicting") or 0)
        if conflicting:
            outcome = {
                "fail": "failed (add --repeats first or --repeats last to keep one row)",
                "first": "the first row of each kept (--repeats first)",
                "last": "the last row of each kept (--repeats last)",
            }.get(s.get("repeats"), "")
            w(f"{conflicting:,} repeats with other values: {outcome}")
        for problem in s.get("problems") or []:
            offer = problem.get("offer") or {}
            if offer.get("setting") == "rounding":
                hint = "add --rounding half-up (or half-even)"
            elif offer.get("setting") == "date_format":
                hint = f"add --date-format {offer['field']}=excel-1900 (or excel-1904)"
            else:
                hint = ""
            w(f"Problem: {problem['message']}" + (f" → {hint}" if hint else ""))
        for field, count in (s.get("rounded") or {}).items():
            w(f"{count:,} values of {field} rounded ({s.get('rounding')})")
        keys = s.get("keys_used") or {}
        if keys:
            w(
                "Records recognised by: "
                + ", ".join(
                    f"{'no key (created as new)' if k == 'none' else k} {n:,}"
                    for k, n in keys.items()
                )
            )
