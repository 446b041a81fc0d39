"""The command line's shared parts: a progress line on a terminal, and ``--json`` commands.

It speaks the same interface as ``jobs.services.JobProgress`` (set_total, update, check_cancel),
so an engine reports to it without knowing whether a person is watching a terminal. Given an
``inner`` progress (the job's), every call is passed on and the line is drawn on top.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization
from jobs.errors import FerryError

logger = logging.getLogger(__name__)


class TerminalProgress:
    # Redrawing more often than this only costs time; a person cannot read it faster.
    REDRAW_SECONDS = 0.2

    def __init__(self, stream: TextIO | None, inner: Any = None):
        self.stream = stream  # None: count silently (not a terminal, or --quiet)
        self.inner = inner
        self.total: int | None = None
        self.started = time.monotonic()
        self.last = 0.0

    def set_total(self, total: int | None) -> None:
        self.total = total
        if self.inner is not None:
            self.inner.set_total(total)

    def check_cancel(self, **kwargs) -> None:
        if self.inner is not None:
            self.inner.check_cancel(**kwargs)

    def update(self, *, processed: int, force: bool = False, **counts) -> bool:
        written = False
        if self.inner is not None:
            written = self.inner.update(processed=processed, force=force, **counts)
        now = time.monotonic()
        if self.stream is None or not (force or now - self.last >= self.REDRAW_SECONDS):
            return written
        self.last = now
        total = self.total
        rate = processed / max(now - self.started, 1e-6)
        if total:
            share = min(1.0, processed / total)
            bar = "#" * int(share * 30)
            line = (
                f"\r[{bar:<30}] {share * 100:5.1f}%  {processed:,}/{total:,} rows  "
                f"{rate:,.0f} rows/s"
            )
        else:
            line = f"\r{processed:,} rows  {rate:,.0f} rows/s"
        self.stream.write(line)
        self.stream.flush()
        return written or self.inner is None

    def finish(self) -> None:
        if self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()


class JsonCommand(BaseCommand):
    """A management command whose ``--json`` promises exactly one JSON object on stdout.

    Scripts parse that object whatever happened, so errors are objects too:
    ``{"status": "error", "code": ..., "message": ...}`` for bad arguments (argparse's own
    errors included), unusable files, limits and unexpected failures; the exit status stays
    the command's documented one. Without ``--json`` the command behaves like any other.
    """

    # Exit status for arguments or input that cannot be used (argparse would say 2, which the
    # import command uses for "some rows failed").
    EXIT_UNUSABLE = 1

    json_requested = False

    def run_from_argv(self, argv):
        # Known before parsing, so even an argparse error can be answered in JSON.
        self.json_requested = "--json" in argv[2:]
        super().run_from_argv(argv)

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        argparse_error = parser.error

        def error(message: str):
            if not parser.called_from_command_line:
                argparse_error(message)  # raises CommandError for call_command
            if self.json_requested:
                self.json_error(message, code="bad_arguments")
            else:
                parser.print_usage(sys.stderr)
                sys.stderr.write(f"{parser.prog}: error: {message}\n")
            sys.exit(self.EXIT_UNUSABLE)

        parser.error = error
        return parser

    def execute(self, *args, **options):
        if not options.get("json"):
            return super().execute(*args, **options)
        self.json_requested = True
        try:
            return super().execute(*args, **options)
        except CommandError as exc:
            self.json_error(str(exc), code="error")
            sys.exit(exc.returncode)
        except FerryError as exc:
            self.json_error(exc.message, code=exc.code or "error")
            sys.exit(self.EXIT_UNUSABLE)
        except Exception:
            # Not a message meant for people: the traceback goes to stderr and the log.
            logger.exception("%s failed", type(self).__module__)
            self.json_error("An unexpected error stopped the command.", code="internal")
            sys.exit(self.EXIT_UNUSABLE)

    def exit_with(self, options, work: Callable[[], int]) -> None:
        """Run ``work`` and exit with the status it answers (0: none). Without ``--json``, a
        CommandError is its bare message on stderr and EXIT_UNUSABLE, not Django's
        "CommandError: ..." line."""
        try:
            code = work()
        except CommandError as exc:
            if options["json"]:
                raise  # answered as one JSON object by execute()
            self.stderr.write(str(exc))
            code = self.EXIT_UNUSABLE
        if code:
            sys.exit(code)

    def json_error(self, message: str, *, code: str) -> None:
        self.stdout.write(json.dumps({"status": "error", "code": code, "message": message}))


def organization_from_option(
    slug: str | None, *, required: bool = True, returncode: int = 1
) -> Organization | None:
    """The organization a command's ``--org SLUG`` names; without it, the only one there is.

    Every command finds its organization this way, with the same messages. ``required=False``
    answers None when no slug is given (a command that then works across organizations).
    """
    if slug:
        found = Organization.objects.filter(slug=slug).first()
        if found is None:
            raise CommandError(f"No organization with the slug '{slug}'.", returncode=returncode)
        return found
    if not required:
        return None
    orgs = list(Organization.objects.order_by("slug")[:2])
    if len(orgs) == 1:
        return orgs[0]
    if not orgs:
        raise CommandError("There is no organization yet.", returncode=returncode)
    slugs = ", ".join(Organization.objects.order_by("slug").values_list("slug", flat=True))
    raise CommandError(
        f"There are several organizations: pass --org SLUG (one of: {slugs}).",
        returncode=returncode,
    )
