"""Create the demo inventory database (a few hundred paper reels) and register it for the demo
organization. Safe to run again."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization
from business.demo import DEMO_SLUG
from sync.demo import DEMO_FILE, demo_connection_register


class Command(BaseCommand):
    help = "Create and register the demo reel inventory for the demo organization."

    def add_arguments(self, parser):
        parser.add_argument("--org", default=DEMO_SLUG)
        parser.add_argument("--reels", type=int, default=300)

    def handle(self, *args, **o):
        org = Organization.objects.filter(slug=o["org"]).first()
        if org is None:
            raise CommandError(f"No organization '{o['org']}' (run seed_demo first).")
        conn, created = demo_connection_register(organization=org, reels=o["reels"])
        if created:
            self.stdout.write(
                f"Demo inventory '{conn.name}' registered ({DEMO_FILE} in the sync folder, "
                f"table {conn.table})."
            )
        else:
            self.stdout.write(f"Demo inventory '{conn.name}' already registered.")
