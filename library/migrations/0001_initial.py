"""DataTemplate moves from the wizard app to the library app without touching its table.

The table ``wizard_datatemplate`` was created by wizard.0001 and keeps its name
(``Meta.db_table``): this migration only adds the model to the library's state, and
wizard.0003 removes it from the wizard's. The content type follows the model, so admin
history and permissions that point at it keep working.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def content_type_move(apps, schema_editor, *, old: str, new: str):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if ContentType.objects.using(db).filter(app_label=new, model="datatemplate").exists():
        return
    ContentType.objects.using(db).filter(app_label=old, model="datatemplate").update(app_label=new)


def forwards(apps, schema_editor):
    content_type_move(apps, schema_editor, old="wizard", new="library")


def backwards(apps, schema_editor):
    content_type_move(apps, schema_editor, old="library", new="wizard")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wizard", "0002_importchange_importrow"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DataTemplate",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=200)),
                        ("description", models.TextField(blank=True)),
                        ("resource", models.CharField(max_length=64)),
                        (
                            "template_type",
                            models.CharField(
                                choices=[("import", "Import"), ("export", "Export")],
                                default="import",
                                max_length=10,
                                verbose_name="type",
                            ),
                        ),
                        ("mapping", models.JSONField(blank=True, default=dict)),
                        ("options", models.JSONField(blank=True, default=dict)),
                        ("rules", models.JSONField(blank=True, default=dict)),
                        (
                            "on_duplicate",
                            models.CharField(
                                choices=[
                                    ("skip", "Skip existing records"),
                                    ("update", "Update existing records"),
                                    ("create", "Create new records"),
                                ],
                                default="skip",
                                max_length=10,
                            ),
                        ),
                        (
                            "mode",
                            models.CharField(
                                choices=[
                                    ("atomic", "All or nothing"),
                                    ("skip-invalid", "Skip invalid rows"),
                                ],
                                default="skip-invalid",
                                max_length=20,
                            ),
                        ),
                        ("is_shared", models.BooleanField(default=False)),
                        ("is_active", models.BooleanField(default=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("last_used_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
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
                    options={
                        "db_table": "wizard_datatemplate",
                        "ordering": ["name"],
                        "verbose_name": "template",
                        "verbose_name_plural": "templates",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("organization", "template_type", "name"),
                                name="datatemplate_unique_name",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
