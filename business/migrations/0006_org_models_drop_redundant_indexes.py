"""The organization's and the creation time's own indexes dropped from every business table
(``OrgModel``): each table's unique constraint or index starting with the organization already
serves the scoping, and nothing reads business records by creation time on an index.

Only the indexes go. Django's AlterField would rebuild each SQLite table twice (copying every
row) to drop two indexes, so the state changes as AlterField says while the database only loses
the single-column indexes it finds on those columns.
"""

import django.db.models.deletion
from django.db import migrations, models

MODELS = [
    "account",
    "contact",
    "credittransaction",
    "customer",
    "lead",
    "product",
    "productcategory",
    "salesorder",
    "salesorderline",
    "stockitem",
    "stockmovement",
    "warehouse",
]
COLUMNS = ["organization_id", "created_at"]


def _single_column_indexes(schema_editor, model, column):
    return schema_editor._constraint_names(
        model, [column], index=True, unique=False, primary_key=False
    )


def indexes_drop(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("business", name)
        for column in COLUMNS:
            for index in _single_column_indexes(schema_editor, model, column):
                schema_editor.execute(schema_editor._delete_index_sql(model, index))


def indexes_create(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("business", name)
        for column in COLUMNS:
            if _single_column_indexes(schema_editor, model, column):
                continue
            field = next(f for f in model._meta.concrete_fields if f.column == column)
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))


def _state_operations():
    """What AlterField records for each table: the two fields without their own index."""
    for name in MODELS:
        yield migrations.AlterField(
            model_name=name,
            name="created_at",
            field=models.DateTimeField(auto_now_add=True),
        )
        yield migrations.AlterField(
            model_name=name,
            name="organization",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.organization",
            ),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_invitation_verbose_names"),
        ("business", "0005_contact_lead_email_optional"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=list(_state_operations()),
            database_operations=[migrations.RunPython(indexes_drop, indexes_create)],
        ),
    ]
