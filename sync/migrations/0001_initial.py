import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import sync.models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0002_organization_settings"),
        ("business", "0003_product_attributes"),
        ("jobs", "0003_heartbeat_resume_target_label"),
    ]

    operations = [
        migrations.CreateModel(
            name="SyncConnection",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                (
                    "kind",
                    models.CharField(
                        choices=[("sqlite", "SQLite file"), ("url", "Database URL")],
                        default="sqlite",
                        max_length=10,
                    ),
                ),
                ("path", models.CharField(blank=True, max_length=500)),
                ("url", models.CharField(blank=True, max_length=500, verbose_name="URL")),
                ("table", models.CharField(max_length=128)),
                ("key_column", models.CharField(max_length=128)),
                ("filter_column", models.CharField(blank=True, default="status", max_length=128)),
                ("filter_value", models.CharField(blank=True, default="In-stock", max_length=200)),
                ("mapping", models.JSONField(blank=True, default=dict)),
                ("options", models.JSONField(blank=True, default=dict)),
                ("transforms", models.JSONField(blank=True, default=dict)),
                ("stock", models.JSONField(blank=True, default=dict)),
                (
                    "sold_statuses",
                    models.JSONField(blank=True, default=sync.models.default_sold_statuses),
                ),
                ("writeback", models.JSONField(blank=True, default=sync.models.default_writeback)),
                ("writeback_username", models.CharField(default="ferry", max_length=100)),
                ("auto_sync", models.BooleanField(default=False)),
                (
                    "interval_minutes",
                    models.PositiveIntegerField(
                        default=1440,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(10080),
                        ],
                    ),
                ),
                ("last_sync_at", models.DateTimeField(blank=True, null=True)),
                ("next_sync_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sync_connections",
                        to="accounts.organization",
                    ),
                ),
                (
                    "running_job",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="jobs.datajob",
                    ),
                ),
            ],
            options={"ordering": ["name"]},
        ),
        migrations.AddConstraint(
            model_name="syncconnection",
            constraint=models.UniqueConstraint(
                fields=("organization", "name"), name="sync_connection_name"
            ),
        ),
        migrations.AddConstraint(
            model_name="syncconnection",
            constraint=models.CheckConstraint(
                condition=models.Q(("interval_minutes__gte", 1), ("interval_minutes__lte", 10080)),
                name="sync_connection_interval",
            ),
        ),
        migrations.CreateModel(
            name="SyncLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("external_key", models.CharField(max_length=200)),
                ("values_hash", models.CharField(max_length=64)),
                ("values", models.JSONField(blank=True, default=dict)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("linked", "Linked"),
                            ("sold", "Written back"),
                            ("gone", "No longer available"),
                        ],
                        default="linked",
                        max_length=10,
                    ),
                ),
                ("written_status", models.CharField(blank=True, max_length=100)),
                ("last_synced_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "connection",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="links",
                        to="sync.syncconnection",
                    ),
                ),
                (
                    "product",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="business.product",
                    ),
                ),
            ],
            options={"ordering": ["external_key"]},
        ),
        migrations.AddConstraint(
            model_name="synclink",
            constraint=models.UniqueConstraint(
                fields=("connection", "external_key"), name="sync_link_key"
            ),
        ),
        migrations.CreateModel(
            name="SyncRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "direction",
                    models.CharField(
                        choices=[
                            ("both", "Import and write-back"),
                            ("import", "Import only"),
                            ("export", "Write-back only"),
                        ],
                        default="both",
                        max_length=10,
                    ),
                ),
                ("dry_run", models.BooleanField(default=False)),
                ("automatic", models.BooleanField(default=False)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("running", "Running"),
                            ("completed", "Completed"),
                            ("failed", "Failed"),
                        ],
                        default="running",
                        max_length=10,
                    ),
                ),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("imported", models.PositiveIntegerField(default=0)),
                ("updated", models.PositiveIntegerField(default=0)),
                ("skipped", models.PositiveIntegerField(default=0)),
                ("written_back", models.PositiveIntegerField(default=0)),
                ("conflicts", models.PositiveIntegerField(default=0)),
                ("errors", models.PositiveIntegerField(default=0)),
                ("message", models.TextField(blank=True)),
                ("details", models.JSONField(blank=True, default=dict)),
                (
                    "connection",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="runs",
                        to="sync.syncconnection",
                    ),
                ),
                (
                    "job",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="jobs.datajob",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.organization",
                    ),
                ),
            ],
            options={"ordering": ["-started_at", "-pk"]},
        ),
        migrations.AddIndex(
            model_name="syncrun",
            index=models.Index(
                fields=["organization", "connection", "started_at"],
                name="sync_syncru_organiz_9da0e8_idx",
            ),
        ),
    ]
