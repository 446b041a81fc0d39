"""``manage.py seed_demo``: the demo organization, its users and a coherent demo business."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from business.demo import DEMO_NAME, demo_seed


class Command(BaseCommand):
    help = (
        'Create (or top up) the demo organization "Demo Trading Co." with users admin, manager '
        "and ops and realistic business records. Safe to run again: nothing is duplicated."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help="Multiply the record volumes (1 ≈ 1,000 contacts; 1000 ≈ 1,000,000 contacts).",
        )
        parser.add_argument(
            "--seed", type=int, default=42, help="Random seed: the same seed gives the same data."
        )
        parser.add_argument(
            "--org-name", default=DEMO_NAME, help=f'Organization name (default "{DEMO_NAME}").'
        )

    def handle(self, *args, scale: int, seed: int, org_name: str, **options):
        if scale < 1:
            raise CommandError("--scale must be 1 or more.")
        result = demo_seed(scale=scale, seed=seed, org_name=org_name)
        org = result.organization
        state = "created" if result.organization_created else "already there, topped up"
        self.stdout.write(f'Organization "{org.name}" (slug {org.slug}): {state}.')
        self.stdout.write(
            f"Scale {scale}, seed {seed}: {result.rows_created:,} rows created "
            f"in {result.seconds:.1f} s."
        )
        width = max(len(name) for name in result.totals)
        for name, total in result.totals.items():
            new = result.created.get(name, 0)
            self.stdout.write(f"  {name:<{width}}  {total:>10,}  (+{new:,})")
        self.stdout.write("Log in with:")
        for user in result.users:
            if user["password_ok"]:
                line = f"  {user['username']} / {user['password']}  ({user['role']})"
            else:
                line = f"  {user['username']}  ({user['role']}; existing user, password unchanged)"
            self.stdout.write(line)
